/**
 * @module door-alarm: an alarm when a door opened and did not close within `withinMs`, in event
 * time (`Pattern`, "A then no B within T"). Idle doors are judged by `tick`: a door that opened
 * and then sends nothing raises its alarm once the gateway's clock passes the deadline.
 *
 * Config (a CBOR map; every key optional):
 *   field        string  dotted path of the door state (a string)                default "door"
 *   openValue    string  the state that starts the clock (A)                      default "open"
 *   closedValue  string  the state that stops it (B)                              default "closed"
 *   withinMs     integer how long a door may stay open (ms)                       default 300000
 *   mode         string  "absent": alarm when no B follows an A within withinMs;
 *                        "followed": a match record when one does               default "absent"
 *   label        string  written as "pattern" in every result; "" = none        default "door-open"
 *   timeField    string  dotted path of the event time; "" = the arrival time     default "ts"
 *   timeFormat   string  "ms" | "s" | "iso" | "auto"                             default "ms"
 *   outOfOrderMs integer wait this long for events out of order                  default 0
 *   latenessMs   integer and this much more                                      default 0
 *   idleMs       integer `tick(now)` judges a door once deadline ≤ now − idleMs
 *                        − outOfOrderMs − latenessMs; -1 = only events do          default 0
 *   keyField     string  string field to key by; "" = the device key              default ""
 *
 * Outputs:
 *   default  absent:   {"key","pattern":"door-open","since","deadline"} at time deadline,
 *                      id = FNV-1a 64 of (key, since)
 *            followed: {"key","pattern",…,"first","second","elapsedMs"} at the closing time
 *   late     an event older than a judged deadline of its door, unchanged
 *   dead     an event that is malformed or lacks the state string or the time
 * Events with another state are no A or B but move the door's clock (so an alarm can come
 * from the next event of the door as well as from `tick`).
 * Metrics (per batch, when non-zero): `ignored` = events with another state, `late`.
 * State: every door's open episode (snapshot/restore).
 */

import {
  Batch,
  Config,
  FIELD_OK,
  FieldPath,
  FieldText,
  MAX_SPAN_MS,
  Output,
  PATTERN_ABSENT,
  PATTERN_FOLLOWED,
  Pattern,
  PatternOptions,
  Rule,
  StateReader,
  StateWriter,
  metric,
  register,
  timeFormatOf,
} from '../sdk';

class DoorAlarm extends Rule {
  field: FieldPath = new FieldPath('door');
  open: FieldText = new FieldText('open');
  closed: FieldText = new FieldText('closed');
  pattern: Pattern | null = null;

  init(cfg: Config): void {
    this.field = new FieldPath(cfg.str('field', 'door'));
    this.open = new FieldText(cfg.str('openValue', 'open'));
    this.closed = new FieldText(cfg.str('closedValue', 'closed'));
    const o = new PatternOptions();
    o.withinMs = cfg.i64('withinMs', 300000);
    const mode = cfg.str('mode', 'absent');
    o.label = cfg.str('label', 'door-open');
    o.timeField = cfg.str('timeField', 'ts');
    const format = cfg.str('timeFormat', 'ms');
    o.outOfOrderMs = cfg.i64('outOfOrderMs', 0);
    o.latenessMs = cfg.i64('latenessMs', 0);
    o.idleMs = cfg.i64('idleMs', 0);
    o.keyField = cfg.str('keyField', '');
    if (cfg.error !== null) return;
    o.kind = mode == 'followed' ? PATTERN_FOLLOWED : PATTERN_ABSENT;
    o.timeFormat = timeFormatOf(format);
    if (mode != 'absent' && mode != 'followed') {
      cfg.fail('config.mode: got "' + mode + '", expected "absent" or "followed"');
    } else if (o.timeFormat < 0) {
      cfg.fail('config.timeFormat: got "' + format + '", expected "ms", "s", "iso" or "auto"');
    } else if (o.withinMs <= 0 || o.withinMs > MAX_SPAN_MS) {
      cfg.fail(
        'config.withinMs: got ' +
          o.withinMs.toString() +
          ', expected a positive number of milliseconds',
      );
    } else if (
      o.outOfOrderMs < 0 ||
      o.latenessMs < 0 ||
      o.outOfOrderMs > MAX_SPAN_MS ||
      o.latenessMs > MAX_SPAN_MS
    ) {
      cfg.fail('config.outOfOrderMs and config.latenessMs: expected 0 or more milliseconds');
    } else if (o.idleMs < -1 || o.idleMs > MAX_SPAN_MS) {
      cfg.fail(
        'config.idleMs: got ' +
          o.idleMs.toString() +
          ', expected 0 or more milliseconds, or -1 for never',
      );
    } else if (this.open.text == this.closed.text) {
      cfg.fail('config.openValue and config.closedValue are both "' + this.open.text + '"');
    } else {
      this.pattern = new Pattern(o);
    }
  }

  process(batch: Batch, out: Output, now: i64): void {
    const pattern = this.pattern!;
    const field = this.field;
    const lateBefore = pattern.lateCount;
    let ignored = 0;
    while (batch.next()) {
      const ev = batch.event;
      let status = FIELD_OK;
      if (ev.strEquals(field, this.open)) status = pattern.first(ev, out);
      else if (ev.status != FIELD_OK) status = ev.status;
      else if (ev.strEquals(field, this.closed)) status = pattern.second(ev, out);
      else {
        // Another state: no A or B, but the door's clock moved.
        ignored++;
        status = pattern.observe(ev, out);
      }
      if (status != FIELD_OK) out.deadField(ev);
    }
    if (ignored > 0) metric('ignored', <f64>ignored);
    const late = pattern.lateCount - lateBefore;
    if (late > 0) metric('late', <f64>late);
  }

  tick(out: Output, now: i64): void {
    this.pattern!.tick(now, out);
  }

  snapshot(state: StateWriter): void {
    this.pattern!.save(state);
  }

  restore(state: StateReader): void {
    this.pattern!.load(state);
  }
}

register(new DoorAlarm());
export * from '../sdk/exports';
