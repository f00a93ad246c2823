/**
 * Entry of the wallet app (runs in the browser). The wallet holds the person's DID
 * key, Ethereum account and credentials, encrypted at rest (IndexedDB, the CLI's
 * wallet.json format); nothing leaves it but presentations and signatures the person
 * approved on a page that said what they are.
 */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { router } from "./router";
import { WalletProvider } from "./store/wallet";
import "./styles.css";

const queries = new QueryClient({
  defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } },
});

const element = document.getElementById("root");
if (element === null) throw new Error("index.html has no #root element");
createRoot(element).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <WalletProvider>
        <RouterProvider router={router} />
      </WalletProvider>
    </QueryClientProvider>
  </StrictMode>,
);
