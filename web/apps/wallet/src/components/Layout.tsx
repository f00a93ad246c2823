/**
 * The frame of every wallet page (runs in the browser): a skip link, the banner with
 * the lock button, the navigation, the main landmark.
 */
import { Link } from "@tanstack/react-router";
import type { ReactNode } from "react";
import { useWallet } from "../store/wallet";
import { Button } from "./controls";

export function Layout({ children }: { children: ReactNode }) {
  const wallet = useWallet();
  return (
    <>
      <a href="#main" className="skip">
        Skip to the content
      </a>
      <header className="banner">
        <Link to="/" className="brand">
          Kraken Wallet
        </Link>
        <span className="lock-state" aria-live="polite">
          {wallet.status === "unlocked" ? "Unlocked" : wallet.status === "locked" ? "Locked" : ""}
        </span>
        {wallet.status === "unlocked" ? (
          <Button tone="secondary" onPress={wallet.lock}>
            Lock
          </Button>
        ) : null}
      </header>
      <nav aria-label="Wallet" className="nav">
        <Link to="/" activeOptions={{ exact: true }}>
          Wallet
        </Link>
        <Link to="/credentials">Credentials</Link>
        <Link to="/receive">Receive</Link>
        <Link to="/scan">Scan</Link>
      </nav>
      <main id="main" className="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
