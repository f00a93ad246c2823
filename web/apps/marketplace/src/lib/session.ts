// Runs in the browser. Whether someone is signed in. Sign-in (OpenID4VP with the wallet,
// the /signin page) is not part of the marketplace yet: until it is, every page is
// read anonymously and what needs a session (whether you meet a product's policy)
// invites to sign in. The sign-in page replaces this with its session state.
export const signedIn = false;
