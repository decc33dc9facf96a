/**
 * How the client derives its wire types from the TypeBox schemas the server validates with, so a
 * field renamed or retyped in a schema changes the client's types too. Only types are imported:
 * the client ships no TypeBox code and keeps running on `fetch` alone.
 */

/** Any JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON object (a game's state snapshot). */
export type JsonObject = { [key: string]: Json };

/** A schema's static type, read-only all the way down (what the client hands out or accepts). */
export type Frozen<T> = T extends readonly (infer Item)[]
  ? readonly Frozen<Item>[]
  : T extends object
    ? { readonly [K in keyof T]: Frozen<T[K]> }
    : T;

/**
 * {@link Frozen}, with {@link Json} where the schema admits any value (`Type.Unknown()`): what
 * crosses the wire is JSON, so that is what the client's callers read and write.
 */
export type Wire<T> = unknown extends T
  ? Json
  : T extends readonly (infer Item)[]
    ? readonly Wire<Item>[]
    : T extends object
      ? { readonly [K in keyof T]: Wire<T[K]> }
      : T;

/** One object type out of an intersection, so editors show the fields rather than `Omit<…> & …`. */
type Flatten<T> = { [K in keyof T]: T[K] };

/**
 * The schema's type `T` as {@link Wire}, with the fields of `Fields` in its place: a caller's type
 * parameter for the game state or a document's value. `Fields` may only name fields the schema
 * has, each within the schema's type, so a schema that renames or retypes one fails here.
 */
export type Narrowed<
  T,
  Fields extends { readonly [K in keyof Fields]: K extends keyof T ? Frozen<T[K]> : never },
> = Flatten<Omit<Wire<T>, keyof Fields> & Fields>;
