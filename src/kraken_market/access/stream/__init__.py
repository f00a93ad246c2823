"""The stream access mode's data plane: encrypted subscriptions (issue 6).

A seller's :class:`~kraken_market.access.stream.publisher.StreamPublisher`
encrypts each message with AES-256-GCM under the current *epoch key*
(``messages``: the frame format), rotating the key by time and/or count and
depositing each new key with the compute nodes before using it (``epochs``).
Transports carry only frames (``transport``): the marketplace API's embedded
relay (``routes``, ``service``, ``models``; SDK side ``relay_client``), which
serves a subscriber only while their paid time on chain covers now, or NATS
JetStream (``nats``), where the epoch keys alone enforce payment. A buyer's
:class:`~kraken_market.access.stream.subscriber.StreamSubscriber` verifies
and decrypts each frame and stops with ``subscription_expired`` when the paid
time ends. ``errors`` holds the error tree; ``docs/streams.md`` the design.

Nothing is imported here, so using the envelope does not load FastAPI or NATS.
"""
