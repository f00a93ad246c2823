/**
 * The wallet as the pages see it (runs in the browser's main thread): the stored
 * document (always encrypted) and, while unlocked, its keys in memory only. Locking
 * drops the keys; the wallet locks itself after 15 minutes without a key press,
 * click or touch, and when the person asks.
 */
import {
  addCredential,
  parseWallet,
  serializeWallet,
  type WalletDocument,
  type WalletKeys,
} from "@kraken/core/walletFile";
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import { newWallet, openWallet, type Progress } from "./keystores";
import { askPersistence, deleteWallet, loadWalletText, saveWalletText } from "./storage";

export const IDLE_LOCK_MS = 15 * 60 * 1000;

export type WalletState =
  | { readonly status: "loading" }
  | { readonly status: "none" }
  /** The browser would not give the stored wallet back (storage blocked or damaged). */
  | { readonly status: "unreadable"; readonly message: string }
  | { readonly status: "locked"; readonly document: WalletDocument }
  | { readonly status: "unlocked"; readonly document: WalletDocument; readonly keys: WalletKeys };

export interface WalletActions {
  create(passphrase: string, onProgress: Progress): Promise<void>;
  /** A CLI wallet.json: kept only once the passphrase unlocks it. */
  importFile(text: string, passphrase: string, onProgress: Progress): Promise<void>;
  unlock(passphrase: string, onProgress: Progress): Promise<void>;
  lock(): void;
  addCredential(token: string): Promise<void>;
  removeCredential(id: string): Promise<void>;
  /** The file to download, byte for byte what the CLI reads. */
  exportText(): string;
  forget(): Promise<void>;
}

const Context = createContext<(WalletState & WalletActions) | null>(null);

export function useWallet(): WalletState & WalletActions {
  const value = useContext(Context);
  if (value === null) throw new Error("useWallet outside WalletProvider");
  return value;
}

/** The unlocked wallet's document and keys (for pages behind the unlock gate). */
export function useUnlocked(): { document: WalletDocument; keys: WalletKeys } & WalletActions {
  const wallet = useWallet();
  if (wallet.status !== "unlocked") throw new Error("the wallet is locked");
  return wallet;
}

export function WalletProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<WalletState>({ status: "loading" });
  const current = useRef(state);
  current.current = state;

  useEffect(() => {
    let live = true;
    loadWalletText()
      .then((text) => {
        if (!live) return;
        setState(
          text === null ? { status: "none" } : { status: "locked", document: parseWallet(text) },
        );
      })
      .catch((reason: unknown) => {
        if (live) setState({ status: "unreadable", message: String(reason) });
      });
    return () => {
      live = false;
    };
  }, []);

  const store = useCallback(async (document: WalletDocument) => {
    await saveWalletText(serializeWallet(document));
    void askPersistence();
  }, []);

  const lock = useCallback(() => {
    const now = current.current;
    if (now.status === "unlocked") setState({ status: "locked", document: now.document });
  }, []);

  // Auto-lock: any key press, click or touch restarts the 15-minute clock.
  useEffect(() => {
    if (state.status !== "unlocked") return;
    let timer = window.setTimeout(lock, IDLE_LOCK_MS);
    const restart = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(lock, IDLE_LOCK_MS);
    };
    const events = ["pointerdown", "keydown", "touchstart"] as const;
    for (const name of events) window.addEventListener(name, restart, { passive: true });
    return () => {
      window.clearTimeout(timer);
      for (const name of events) window.removeEventListener(name, restart);
    };
  }, [state.status, lock]);

  const unlocked = useCallback((): { document: WalletDocument; keys: WalletKeys } => {
    const now = current.current;
    if (now.status !== "unlocked") throw new Error("the wallet is locked: unlock it first");
    return now;
  }, []);

  const actions = useMemo<WalletActions>(
    () => ({
      async create(passphrase, onProgress) {
        const { document, keys } = await newWallet(passphrase, onProgress);
        await store(document);
        setState({ status: "unlocked", document, keys });
      },
      async importFile(text, passphrase, onProgress) {
        const document = parseWallet(text);
        const keys = await openWallet(document, passphrase, onProgress);
        await saveWalletText(text.endsWith("\n") ? text : `${text}\n`);
        void askPersistence();
        setState({ status: "unlocked", document, keys });
      },
      async unlock(passphrase, onProgress) {
        const now = current.current;
        if (now.status !== "locked") return;
        const keys = await openWallet(now.document, passphrase, onProgress);
        setState({ status: "unlocked", document: now.document, keys });
      },
      lock,
      async addCredential(token) {
        const { document, keys } = unlocked();
        const next = addCredential(document, token);
        await store(next);
        setState({ status: "unlocked", document: next, keys });
      },
      async removeCredential(id) {
        const { document, keys } = unlocked();
        const next = { ...document, credentials: document.credentials.filter((c) => c.id !== id) };
        await store(next);
        setState({ status: "unlocked", document: next, keys });
      },
      exportText() {
        const now = current.current;
        if (now.status !== "locked" && now.status !== "unlocked")
          throw new Error("there is no wallet to export");
        return serializeWallet(now.document);
      },
      async forget() {
        await deleteWallet();
        setState({ status: "none" });
      },
    }),
    [lock, store, unlocked],
  );

  const value = useMemo(() => ({ ...state, ...actions }), [state, actions]);
  return <Context.Provider value={value}>{children}</Context.Provider>;
}
