"""The browser apps' side of the API process: serving the built apps (``web/dist``)
with their security headers, and the OpenAPI spec their generated client is made from.

The apps themselves are TypeScript in the repository's ``web/`` workspace; they run
in the browser. Nothing here renders server text as HTML.
"""
