/** Tic-tac-toe as boardgame.io's tutorial writes it: the game of docs/boardgame-io.md, its end-to-end test and benchmark. */
import type { Game } from 'boardgame.io';
import { bgioCore } from './boardgame-io.js';

export interface TicTacToeState {
  cells: Array<string | null>;
}

const LINES = [
  [0, 1, 2],
  [3, 4, 5],
  [6, 7, 8],
  [0, 3, 6],
  [1, 4, 7],
  [2, 5, 8],
  [0, 4, 8],
  [2, 4, 6],
] as const;

function winner(cells: ReadonlyArray<string | null>): string | null {
  for (const [a, b, c] of LINES) {
    if (cells[a] !== null && cells[a] === cells[b] && cells[a] === cells[c]) return cells[a] ?? null;
  }
  return null;
}

export const TicTacToe: Game<TicTacToeState> = {
  name: 'tic-tac-toe',
  setup: () => ({ cells: Array<string | null>(9).fill(null) }),
  turn: { minMoves: 1, maxMoves: 1 },
  moves: {
    clickCell: ({ G, playerID }, id: number) => {
      if (G.cells[id] !== null) return bgioCore().INVALID_MOVE;
      G.cells[id] = playerID;
    },
  },
  endIf: ({ G }) => {
    const won = winner(G.cells);
    if (won !== null) return { winner: won };
    if (G.cells.every((cell) => cell !== null)) return { draw: true };
    return undefined;
  },
};

/** A full game that ends in a draw on its ninth move: player 0 takes 0, 2, 3, 7, 8; player 1 takes 1, 4, 5, 6. */
export const DRAW_SEQUENCE: readonly number[] = [0, 1, 2, 4, 3, 5, 7, 6, 8];
