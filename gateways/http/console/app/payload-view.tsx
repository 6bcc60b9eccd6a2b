// A payload block: JSON pretty-printed, text, or a hex dump (payload-format.ts),
// labelled with what it is and how many bytes were left out.

import { formatPayload, type EnvelopePayload } from './payload-format.ts';

export function PayloadView({ payload }: { payload: EnvelopePayload }) {
  const { kind, text, omitted } = formatPayload(payload);
  return (
    <div class="payload-view" data-kind={kind}>
      <small class="kind">{kind}{omitted > 0 ? `, ${omitted.toLocaleString('en')} more bytes not shown` : ''}</small>
      {kind === 'empty' ? null : <pre data-testid="payload">{text}</pre>}
    </div>
  );
}

/** NATS headers as the envelopes carry them: name -> values. */
export function HeadersView({ headers }: { headers?: Record<string, string[]> }) {
  if (headers === undefined || Object.keys(headers).length === 0) return null;
  return (
    <table class="headers" data-testid="headers">
      <tbody>
        {Object.entries(headers).flatMap(([name, values]) => values.map((value) => <tr><th>{name}</th><td>{value}</td></tr>))}
      </tbody>
    </table>
  );
}
