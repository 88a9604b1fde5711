/**
 * @module The entry of a partition's worker thread: one instance of each rule of the chain
 * (from the compiled modules it was given, never recompiled), run by the same `RuleChain` as
 * on the main thread, so routing, poison isolation and per-rule figures are the same. The
 * worker blocks on its shared channel between calls (shared-channel.ts). What needs the main
 * thread comes back in the reply: outbox-bound records as one frame, dead letters and device
 * commands as lists.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { RuleInstance, SluiceError } from '../../runtime/index.js';
import type { DeadLetter } from '../dead-letter/dead-letter-file.js';
import { Counters } from '../pipeline/counters.js';
import { OutputCollector } from '../pipeline/output-collector.js';
import { RuleChain } from '../pipeline/rule-chain.js';
import type { RuleStats } from '../pipeline/rule-stats.js';
import { Figure, RULE_FIGURES } from './protocol.js';
import type { DeviceCommand, PartitionMessage, PartitionWorkerData } from './protocol.js';
import { WorkerChannel } from './shared-channel.js';
import type { ChannelRequest, ReplySide } from './shared-channel.js';

const WASM_PAGE_BYTES = 65536;

/** The rules of one partition and their chain. */
class PartitionRunner {
  readonly #channel: WorkerChannel;
  readonly #rules: RuleInstance[];
  readonly #chain: RuleChain;
  readonly #counters = new Counters();
  readonly #collector = new OutputCollector();
  #deadLetters: DeadLetter[] = [];
  #commands: DeviceCommand[] = [];

  constructor(data: PartitionWorkerData) {
    this.#channel = new WorkerChannel(data.channel);
    this.#rules = data.rules.map((spec) =>
      RuleInstance.create(
        // Only `module` is used to instantiate; the rest of RuleModule is metadata.
        {
          module: spec.module,
          hash: '',
          size: 0,
          memory: { initialPages: 0, maximumPages: 0 },
          exports: [],
          imports: [],
        },
        { name: spec.name, config: spec.config, fuel: spec.fuel },
      ),
    );
    for (let i = 0; i < this.#rules.length; i++) {
      const state = data.states[i];
      if (state !== undefined) (this.#rules[i] as RuleInstance).restore(state);
    }
    // Synchronous writes: the worker blocks between calls and never runs its event loop again.
    const logger = pino(
      { level: data.logLevel, base: { partition: data.partition } },
      pino.destination({ dest: 2, sync: true }),
    );
    this.#chain = new RuleChain({
      pipeline: data.pipeline,
      rules: this.#rules,
      deadLetters: {
        add: (letter: DeadLetter) => {
          // A copy: the payload may be a view over the shared input region, reused next call.
          this.#deadLetters.push({ ...letter, payload: letter.payload?.slice() ?? null });
        },
      },
      counters: this.#counters,
      commandTopic: data.commandTopic,
      publishCommand: (topic, payload) => this.#commands.push({ topic, payload }),
      logger,
    });
    this.#writeFigures();
  }

  /** Serves requests until the worker is terminated. */
  serve(): never {
    const channel = this.#channel;
    for (;;) {
      const request = channel.next();
      try {
        this.#handle(request);
      } catch (error) {
        // A failure that is not a rule's (a gateway bug): the call is refused, the worker lives on.
        this.#deadLetters = [];
        this.#commands = [];
        this.#collector.finish();
        channel.reply(undefined, { error: { code: codeOf(error), message: messageOf(error) } });
      }
    }
  }

  #handle(request: ChannelRequest): void {
    const chain = this.#chain;
    switch (request.type) {
      case 'process':
      case 'tick':
      case 'flush': {
        const trapsBefore = this.#counters.ruleTraps;
        if (request.type === 'process') chain.process(request.frame, request.now, this.#collector);
        else if (request.type === 'tick') chain.tick(request.now, this.#collector);
        else chain.flush(request.now, this.#collector);
        this.#writeFigures();
        this.#channel.reply(this.#collector.finish(), this.#side(trapsBefore));
        return;
      }
      case 'snapshot': {
        const states = this.#rules.map((rule) => rule.snapshot());
        this.#writeFigures();
        this.#channel.reply(undefined, { states });
        return;
      }
      case 'restore':
        for (let i = 0; i < this.#rules.length; i++) {
          const state = request.states[i];
          if (state !== undefined) (this.#rules[i] as RuleInstance).restore(state);
        }
        this.#writeFigures();
        this.#channel.reply(undefined, undefined);
        return;
    }
  }

  /** Dead letters, commands and error counts of the call, when there are any. */
  #side(trapsBefore: number): ReplySide | undefined {
    const failed = this.#counters.ruleTraps > trapsBefore;
    if (this.#deadLetters.length === 0 && this.#commands.length === 0 && !failed) return undefined;
    const side: ReplySide = { deadLetters: this.#deadLetters, commands: this.#commands };
    if (failed) {
      side.ruleTraps = this.#counters.ruleTraps - trapsBefore;
      side.errors = this.#chain.stats.map((s) => [...s.errors.entries()]);
    }
    this.#deadLetters = [];
    this.#commands = [];
    return side;
  }

  /** The chain's figures per rule (see `Figure`), where the main thread reads them. */
  #writeFigures(): void {
    const rules = this.#chain.rules;
    const stats = this.#chain.stats;
    const out = this.#channel.figures;
    for (let i = 0; i < rules.length; i++) {
      const s = stats[i] as RuleStats;
      const rule = rules[i] as RuleInstance;
      const at = i * RULE_FIGURES;
      out[at + Figure.Calls] = s.calls;
      out[at + Figure.EventsIn] = s.eventsIn;
      out[at + Figure.EventsOut] = s.eventsOut;
      out[at + Figure.CallMs] = s.callMs;
      out[at + Figure.Sampled] = s.sampled;
      out[at + Figure.SampledMs] = s.sampledMs;
      out[at + Figure.Restarts] = rule.restarts;
      out[at + Figure.MemoryPages] = rule.memoryBytes / WASM_PAGE_BYTES;
    }
  }
}

function codeOf(error: unknown): string {
  return error instanceof SluiceError ? error.code : 'PARTITION_WORKER_FAILED';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

if (parentPort !== null) {
  let runner: PartitionRunner | undefined;
  try {
    runner = new PartitionRunner(workerData as PartitionWorkerData);
  } catch (error) {
    parentPort.postMessage({
      type: 'error',
      code: codeOf(error),
      message: messageOf(error),
    } satisfies PartitionMessage);
  }
  if (runner !== undefined) {
    parentPort.postMessage({ type: 'ready' } satisfies PartitionMessage);
    runner.serve();
  }
}
