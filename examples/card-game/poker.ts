/**
 * The rules of a small poker game, as pure functions over a JSON table state: antes, two hole cards
 * each, five community cards over four betting rounds (preflop, flop, turn, river), fixed-size
 * bets, showdown, and new hands until one player holds every chip.
 *
 * Each change returns the events it produced. Events are public (they are replayed to every
 * player), so hole cards appear only at showdown; a player sees their own cards in their view.
 */
import { randomInt } from 'node:crypto';
import type { EventInput, JsonObject } from '../../src/index.js';

export const START_CHIPS = 100;
export const ANTE = 5;
export const BET = 10;

export type Phase = 'lobby' | 'preflop' | 'flop' | 'turn' | 'river' | 'finished';
export type Action = 'check' | 'bet' | 'call' | 'fold';
export const ACTIONS: readonly Action[] = ['check', 'bet', 'call', 'fold'];

/** Everything needed to resume the table, hidden cards included. This is what Savepoint persists. */
export interface TableState extends JsonObject {
  tableId: string;
  players: string[];
  chips: Record<string, number>;
  /** Hand number, from 1. */
  hand: number;
  /** Index into `players` of the dealer; the player after the dealer acts first. */
  dealer: number;
  phase: Phase;
  /** The undealt cards, in order. Hidden. */
  deck: string[];
  /** Each player's two cards this hand. Hidden: only the owner sees theirs. */
  holes: Record<string, string[]>;
  community: string[];
  pot: number;
  /** The amount to match in this betting round. */
  bet: number;
  /** What each player put in during this betting round. */
  committed: Record<string, number>;
  /** Players still in the hand (not folded). */
  inHand: string[];
  /** Players who acted since the last bet. */
  acted: string[];
  toAct: string | null;
  winner: string | null;
}

/** What every player may see of the table. */
export interface PublicTable extends JsonObject {
  hand: number;
  phase: Phase;
  pot: number;
  bet: number;
  chips: Record<string, number>;
  committed: Record<string, number>;
  community: string[];
  inHand: string[];
  toAct: string | null;
  winner: string | null;
}

/** One player's view: the public table and their own cards. */
export interface PlayerView extends PublicTable {
  yourCards: string[];
}

/** A move the rules do not allow (not your turn, checking into a bet...). */
export class RuleError extends Error {
  override readonly name = 'RuleError';
}

const RANKS = '23456789TJQKA';
const SUITS = 'cdhs';

function shuffledDeck(): string[] {
  const deck = [...RANKS].flatMap((rank) => [...SUITS].map((suit) => rank + suit));
  for (let i = deck.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [deck[i], deck[j]] = [deck[j] as string, deck[i] as string];
  }
  return deck;
}

export function publicTable(state: TableState): PublicTable {
  return {
    hand: state.hand,
    phase: state.phase,
    pot: state.pot,
    bet: state.bet,
    chips: { ...state.chips },
    committed: { ...state.committed },
    community: [...state.community],
    inHand: [...state.inHand],
    toAct: state.toAct,
    winner: state.winner,
  };
}

export function viewFor(state: TableState, playerId: string): PlayerView {
  return { ...publicTable(state), yourCards: [...(state.holes[playerId] ?? [])] };
}

/** A table before its first hand. */
export function newTable(tableId: string, players: readonly string[]): TableState {
  if (players.length < 2 || players.length > 6) throw new RuleError('A table seats 2 to 6 players');
  if (new Set(players).size !== players.length) throw new RuleError('Player ids must differ');
  return {
    tableId,
    players: [...players],
    chips: Object.fromEntries(players.map((p) => [p, START_CHIPS])),
    hand: 0,
    dealer: players.length - 1,
    phase: 'lobby',
    deck: [],
    holes: {},
    community: [],
    pot: 0,
    bet: 0,
    committed: {},
    inHand: [],
    acted: [],
    toAct: null,
    winner: null,
  };
}

/** Deals the first hand of a new table. */
export function beginGame(state: TableState): EventInput[] {
  if (state.phase !== 'lobby') throw new RuleError('The game has begun already');
  return withTable(state, startHand(state));
}

/** Deals the next hand, or ends the game when fewer than two players have chips. */
function startHand(state: TableState): EventInput[] {
  const funded = state.players.filter((p) => (state.chips[p] ?? 0) > 0);
  if (funded.length < 2) {
    state.phase = 'finished';
    state.toAct = null;
    state.winner = funded[0] ?? null;
    return [{ type: 'game-over', data: { winner: state.winner, table: publicTable(state) } }];
  }
  state.hand += 1;
  state.dealer = nextIndex(state, state.dealer, (p) => funded.includes(p));
  state.deck = shuffledDeck();
  state.community = [];
  state.pot = 0;
  state.holes = {};
  state.inHand = state.players.filter((p) => funded.includes(p));
  for (const player of state.inHand) {
    const ante = Math.min(ANTE, state.chips[player] ?? 0);
    state.chips[player] = (state.chips[player] ?? 0) - ante;
    state.pot += ante;
    state.holes[player] = [state.deck.pop() as string, state.deck.pop() as string];
  }
  state.phase = 'preflop';
  const events: EventInput[] = [
    { type: 'hand-started', data: { hand: state.hand, dealer: state.players[state.dealer] ?? null } },
  ];
  events.push(...openRound(state));
  return events;
}

/** Applies a player's move; throws {@link RuleError} for a move the rules forbid. */
export function act(state: TableState, playerId: string, action: Action): EventInput[] {
  if (state.phase === 'lobby' || state.phase === 'finished') throw new RuleError('No hand is being played');
  if (state.toAct !== playerId)
    throw new RuleError(`It is ${state.toAct ?? 'nobody'}'s turn, not ${playerId}'s`);
  const chips = state.chips[playerId] ?? 0;
  const committed = state.committed[playerId] ?? 0;
  let amount = 0;
  switch (action) {
    case 'check':
      if (committed < state.bet) throw new RuleError('You cannot check facing a bet: call or fold');
      break;
    case 'bet':
      if (state.bet > 0) throw new RuleError('There is a bet already: call or fold');
      amount = Math.min(BET, chips);
      state.bet = committed + amount;
      // A bet reopens the round: everyone else must answer it.
      state.acted = [];
      break;
    case 'call':
      if (committed >= state.bet) throw new RuleError('Nothing to call: check or bet');
      amount = Math.min(state.bet - committed, chips);
      break;
    case 'fold':
      state.inHand = state.inHand.filter((p) => p !== playerId);
      break;
  }
  state.chips[playerId] = chips - amount;
  state.committed[playerId] = committed + amount;
  state.pot += amount;
  state.acted.push(playerId);
  const events: EventInput[] = [{ type: 'action', data: { player: playerId, action, amount } }];

  if (state.inHand.length === 1) {
    events.push(...award(state, [state.inHand[0] as string], {}));
  } else if (roundComplete(state)) {
    events.push(...advance(state));
  } else {
    state.toAct = nextToAct(state, playerId);
  }
  return withTable(state, events);
}

/** Puts the table summary on the last event, so a replayed log shows the state after each move. */
function withTable(state: TableState, events: EventInput[]): EventInput[] {
  return events.map((event, index) =>
    index === events.length - 1
      ? { type: event.type, data: { ...(event.data as JsonObject), table: publicTable(state) } }
      : event,
  );
}

/** Starts a betting round, or deals on when nobody can bet (everyone else is all-in). */
function openRound(state: TableState): EventInput[] {
  state.bet = 0;
  state.committed = {};
  state.acted = [];
  const canBet = state.inHand.filter((p) => (state.chips[p] ?? 0) > 0);
  if (canBet.length <= 1) return advance(state);
  state.toAct = nextToAct(state, state.players[state.dealer] as string);
  return [];
}

/** Moves to the next street, or to the showdown after the river. */
function advance(state: TableState): EventInput[] {
  const next: Partial<Record<Phase, [Phase, number]>> = {
    preflop: ['flop', 3],
    flop: ['turn', 1],
    turn: ['river', 1],
  };
  const step = next[state.phase];
  if (step === undefined) return showdown(state);
  const [phase, cards] = step;
  state.phase = phase;
  for (let i = 0; i < cards; i++) state.community.push(state.deck.pop() as string);
  return [{ type: 'phase', data: { phase, community: [...state.community] } }, ...openRound(state)];
}

function showdown(state: TableState): EventInput[] {
  const scores = new Map(
    state.inHand.map((p) => [p, bestScore([...(state.holes[p] ?? []), ...state.community])]),
  );
  let best: number[] = [];
  for (const score of scores.values()) if (compareScores(score, best) > 0) best = score;
  const winners = state.inHand.filter((p) => compareScores(scores.get(p) ?? [], best) === 0);
  const shown = Object.fromEntries(state.inHand.map((p) => [p, state.holes[p] ?? []]));
  return award(state, winners, shown);
}

/** Splits the pot (odd chips to the first winners), then deals the next hand. */
function award(state: TableState, winners: readonly string[], shown: Record<string, string[]>): EventInput[] {
  const share = Math.floor(state.pot / winners.length);
  let odd = state.pot - share * winners.length;
  for (const winner of winners) {
    state.chips[winner] = (state.chips[winner] ?? 0) + share + (odd > 0 ? 1 : 0);
    odd--;
  }
  const pot = state.pot;
  state.pot = 0;
  state.toAct = null;
  return [
    { type: 'hand-won', data: { hand: state.hand, winners: [...winners], pot, shown } },
    ...startHand(state),
  ];
}

function roundComplete(state: TableState): boolean {
  return state.inHand.every(
    (p) =>
      (state.chips[p] ?? 0) === 0 || (state.acted.includes(p) && (state.committed[p] ?? 0) === state.bet),
  );
}

function nextIndex(state: TableState, from: number, eligible: (player: string) => boolean): number {
  for (let step = 1; step <= state.players.length; step++) {
    const index = (from + step) % state.players.length;
    if (eligible(state.players[index] as string)) return index;
  }
  return from;
}

/** The next player after `after` who is in the hand, has chips, and still owes an action. */
function nextToAct(state: TableState, after: string): string | null {
  const owes = (p: string) =>
    state.inHand.includes(p) &&
    (state.chips[p] ?? 0) > 0 &&
    !(state.acted.includes(p) && (state.committed[p] ?? 0) === state.bet);
  const index = nextIndex(state, state.players.indexOf(after), owes);
  const player = state.players[index] as string;
  return owes(player) ? player : null;
}

// ---- hand ranking ----

/** A 5-card hand's score: category (8 straight flush ... 0 high card), then tie-breakers. */
function scoreFive(cards: readonly string[]): number[] {
  const values = cards.map((card) => RANKS.indexOf(card[0] as string) + 2).sort((a, b) => b - a);
  const flush = cards.every((card) => card[1] === cards[0]?.[1]);
  const unique = [...new Set(values)];
  let straightHigh = 0;
  if (unique.length === 5 && (unique[0] as number) - (unique[4] as number) === 4)
    straightHigh = unique[0] as number;
  if (unique.join() === '14,5,4,3,2') straightHigh = 5;
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  const groups = [...counts].sort((a, b) => b[1] - a[1] || b[0] - a[0]);
  const shape = groups.map(([, count]) => count).join('');
  const ranked = groups.map(([value]) => value);
  if (straightHigh > 0 && flush) return [8, straightHigh];
  if (shape === '41') return [7, ...ranked];
  if (shape === '32') return [6, ...ranked];
  if (flush) return [5, ...values];
  if (straightHigh > 0) return [4, straightHigh];
  if (shape === '311') return [3, ...ranked];
  if (shape === '221') return [2, ...ranked];
  if (shape === '2111') return [1, ...ranked];
  return [0, ...values];
}

/** The best 5-card score among all choices from up to 7 cards. */
export function bestScore(cards: readonly string[]): number[] {
  let best: number[] = [];
  const choose = (start: number, picked: string[]): void => {
    if (picked.length === 5) {
      const score = scoreFive(picked);
      if (compareScores(score, best) > 0) best = score;
      return;
    }
    for (let i = start; i < cards.length; i++) choose(i + 1, [...picked, cards[i] as string]);
  };
  choose(0, []);
  return best;
}

export function compareScores(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? -1) - (b[i] ?? -1);
    if (difference !== 0) return difference;
  }
  return 0;
}
