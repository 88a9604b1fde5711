/**
 * @module The calls between a partitioned chain and its workers, as the chain sees them (they
 * cross through the shared channel, shared-channel.ts). One request is in flight per worker at
 * a time; replies come back in request order.
 */
import type { DeadLetter } from '../dead-letter/dead-letter-file.js';
import type { SharedChannelInit } from './shared-channel.js';

/** One rule of the chain, as a worker needs it (the compiled module crosses as is). */
export interface PartitionRuleSpec {
  name: string;
  module: WebAssembly.Module;
  /** The rule's configuration, as CBOR bytes. */
  config: Uint8Array;
  /** Fuel per call (a metered module), if any. */
  fuel: number | undefined;
}

/** What a worker starts with (`workerData`). */
export interface PartitionWorkerData {
  pipeline: string;
  partition: number;
  rules: PartitionRuleSpec[];
  /** Per rule, the state to restore at start (the partition's last checkpoint), if any. */
  states: (Uint8Array | undefined)[];
  commandTopic: string;
  /** pino level of the worker's log lines. */
  logLevel: string;
  /** The shared buffers and the side port of the worker's channel. */
  channel: SharedChannelInit;
}

/** A request to a worker. */
export type PartitionRequest =
  | { type: 'process'; frame: Uint8Array; now: number }
  | { type: 'tick'; now: number }
  | { type: 'flush'; now: number }
  | { type: 'snapshot' }
  | { type: 'restore'; states: (Uint8Array | undefined)[] };

/** A device command a rule emitted (published by the main thread). */
export interface DeviceCommand {
  topic: string;
  payload: Uint8Array;
}

/** Figures per rule in a reply: `RULE_FIGURES` numbers per rule, cumulative since the worker started. */
export const RULE_FIGURES = 8;
/** Offsets in a rule's figures. */
export const Figure = {
  Calls: 0,
  EventsIn: 1,
  EventsOut: 2,
  CallMs: 3,
  Sampled: 4,
  SampledMs: 5,
  Restarts: 6,
  MemoryPages: 7,
} as const;

/** A worker's reply to a process, tick or flush request. */
export interface PartitionReply {
  type: 'done';
  /** Outbox-bound records, as a frame (undefined when none). */
  frame: Uint8Array | undefined;
  /** The input buffer, handed back for reuse (process only). */
  input: ArrayBuffer | undefined;
  deadLetters: DeadLetter[] | undefined;
  commands: DeviceCommand[] | undefined;
  /** Rule calls that failed during the request. */
  ruleTraps: number;
}

/** A worker's reply to a snapshot request. */
export interface PartitionSnapshotReply {
  type: 'snapshot';
  states: Uint8Array[];
}

/** A worker's reply to a restore request, or its first message once its rules started. */
export interface PartitionAckReply {
  type: 'ready' | 'restored';
}

/** A worker refused a request (or could not start). */
export interface PartitionErrorReply {
  type: 'error';
  code: string;
  message: string;
}

/** Any message from a worker. */
export type PartitionMessage =
  PartitionReply | PartitionSnapshotReply | PartitionAckReply | PartitionErrorReply;
