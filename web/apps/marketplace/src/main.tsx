import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

// Runs in the browser. The marketplace never holds an identity or account key:
// it asks the wallet (the wallet app at /wallet/, or the CLI wallet) for them.
function App() {
  return (
    <main>
      <h1>Kraken Market</h1>
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
