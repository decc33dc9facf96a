/**
 * The API key lives in `sessionStorage` only: it is gone when the tab closes, and it never goes
 * into a URL, `localStorage` or a log.
 */
const STORAGE_KEY = 'savepoint.apiKey';

export function currentKey(): string | undefined {
  const key = sessionStorage.getItem(STORAGE_KEY);
  return key === null || key === '' ? undefined : key;
}

export function rememberKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
