/**
 * @module Where each record of a batch goes on a broker sink (NATS subject or MQTT topic from a
 * template with `{output}` and `{key}`) and the id it carries, so upstream can drop re-sent
 * records.
 */

import type { FrameReader } from '../../runtime/index.js';
import { formatId } from '../dead-letter/dead-letter-file.js';

/** Per record of a batch, in order: its destination name and its id (16 hex digits). */
export interface RecordRoutes {
  readonly names: string[];
  readonly ids: string[];
}

/**
 * Expands `template` for every record `reader` walks (already reset to the batch's frame);
 * `escape` makes an output name or key safe as one level or token of the destination.
 */
export function recordRoutes(
  reader: FrameReader,
  template: string,
  escape: (text: string) => string,
  idPrefix = '',
): RecordRoutes {
  const names: string[] = [];
  const ids: string[] = [];
  while (reader.next()) {
    names.push(
      template
        .replaceAll('{output}', escape(reader.topic()))
        .replaceAll('{key}', escape(reader.key())),
    );
    ids.push(idPrefix + formatId(reader.idHigh, reader.idLow));
  }
  return { names, ids };
}
