import { useEffect, useState } from "react";

// Runs in the browser. A wallet link as a QR code (an <img> of a data: URL: the CSP
// allows img data:, and no inline style or script is needed). The qrcode package is
// loaded with the first QR code, not with the marketplace's first page.

export function WalletQr({ text, label }: { text: string; label: string }) {
  const [source, setSource] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    import("qrcode")
      .then((qrcode) =>
        qrcode.toDataURL(text, { margin: 2, width: 260, errorCorrectionLevel: "M" }),
      )
      .then((url) => {
        if (current) setSource(url);
      })
      .catch(() => {
        if (current) setSource(null);
      });
    return () => {
      current = false;
    };
  }, [text]);
  if (source === null) return <div className="m-qr m-qr-empty" aria-hidden="true" />;
  return <img className="m-qr" src={source} alt={label} width={260} height={260} />;
}

/** The query string of a wallet link (`openid4vp://?client_id=…&request_uri=…`), for the
 * web wallet's same-device page `/wallet/request?…`. */
export function walletPageOf(walletUrl: string): string {
  const at = walletUrl.indexOf("?");
  return `/wallet/request${at < 0 ? "" : walletUrl.slice(at)}`;
}

function secondsUntil(iso: string): number {
  return Math.max(0, Math.round((Date.parse(iso) - Date.now()) / 1000));
}

/** Seconds until `iso`, at least 0, counted down once a second. */
export function useSecondsLeft(iso: string): number {
  const [seconds, setSeconds] = useState(() => secondsUntil(iso));
  useEffect(() => {
    setSeconds(secondsUntil(iso));
    const timer = window.setInterval(() => setSeconds(secondsUntil(iso)), 1000);
    return () => window.clearInterval(timer);
  }, [iso]);
  return seconds;
}

/** "4:05" */
export function clock(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}
