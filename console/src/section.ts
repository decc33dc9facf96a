/** What every section of the console provides to the router in `main.ts`. */

export interface SectionContext {
  /** What follows the section in the address (`#games/table-42` → `table-42`), if anything. */
  readonly arg: string | undefined;
  /** Aborted when the operator leaves the section or changes the key: stop timers, tails and polls. */
  readonly signal: AbortSignal;
}

export interface Section {
  /** The address fragment: `#games`. */
  readonly id: string;
  /** The navigation link's text. */
  readonly title: string;
  render(root: HTMLElement, context: SectionContext): void;
}

/** The address of a section, optionally with an argument (a game id, a board name). */
export const sectionHref = (id: string, arg?: string): string =>
  arg === undefined ? `#${id}` : `#${id}/${encodeURIComponent(arg)}`;

/** Runs `tick` every `ms` until `signal` aborts. */
export function every(ms: number, signal: AbortSignal, tick: () => void): void {
  const timer = setInterval(tick, ms);
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
