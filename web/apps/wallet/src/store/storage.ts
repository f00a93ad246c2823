/**
 * Where the wallet keeps its one document (runs in the browser): IndexedDB, database
 * `kraken-wallet`, store `wallet`, key `current`, the CLI's `wallet.json` text exactly
 * as exported (keys inside only as scrypt keystores; nothing decrypted is ever stored).
 * A small wrapper over `indexedDB` rather than a library: three calls are all it needs.
 */
const DATABASE = "kraken-wallet";
const STORE = "wallet";
const KEY = "current";

function opened(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB refused to open"));
  });
}

async function run<T>(
  mode: IDBTransactionMode,
  act: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const db = await opened();
  try {
    return await new Promise<T>((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const request = act(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error ?? new Error("IndexedDB failed"));
      transaction.onabort = () => reject(transaction.error ?? new Error("IndexedDB aborted"));
    });
  } finally {
    db.close();
  }
}

export async function loadWalletText(): Promise<string | null> {
  const value = await run<unknown>("readonly", (store) => store.get(KEY));
  return typeof value === "string" ? value : null;
}

export async function saveWalletText(text: string): Promise<void> {
  await run("readwrite", (store) => store.put(text, KEY));
}

export async function deleteWallet(): Promise<void> {
  await run("readwrite", (store) => store.delete(KEY));
}

/** Ask the browser not to evict the wallet under storage pressure (granted or not, it is kept as long as the browser keeps site data). */
export async function askPersistence(): Promise<boolean> {
  try {
    return (await navigator.storage?.persist?.()) ?? false;
  } catch {
    return false;
  }
}
