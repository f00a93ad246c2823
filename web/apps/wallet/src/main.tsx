import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

// Runs in the browser. The wallet app holds the person's DID key, Ethereum account
// and credentials, encrypted at rest; nothing here is sent to the marketplace but
// presentations and signatures the person approved.
function App() {
  return (
    <main>
      <h1>Kraken Wallet</h1>
    </main>
  );
}

const root = document.getElementById("root");
if (root === null) throw new Error("index.html has no #root element");
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
