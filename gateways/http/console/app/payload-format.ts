// How the console shows a payload (issue 22): JSON pretty-printed, other UTF-8
// text as it is, anything else (or text with control bytes) as a hex dump. The
// gateway's envelopes carry UTF-8 payloads in `data` and others in
// `data_base64` (gateways/http/envelope.ts); a display is bounded, so a large
// message cannot stall the page.

export interface EnvelopePayload {
  data?: string;
  data_base64?: string;
}

export type PayloadKind = 'empty' | 'json' | 'text' | 'hex';

export interface FormattedPayload {
  kind: PayloadKind;
  text: string;
  /** Bytes left out of `text` (beyond the display limit). */
  omitted: number;
}

/** Bytes shown at most; the rest is counted as omitted. */
export const DISPLAY_LIMIT = 4096;

const HEX_ROW = 16;
// Text that prints: no C0 controls but tab, newline and carriage return, no DEL.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export function bytesOfBase64(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A classic hex dump: offset, 16 bytes in hex, the printable ASCII beside them. */
export function hexDump(bytes: Uint8Array): string {
  const rows: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += HEX_ROW) {
    const row = bytes.subarray(offset, offset + HEX_ROW);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    rows.push(`${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(HEX_ROW * 3 - 1)}  ${ascii}`);
  }
  return rows.join('\n');
}

function formatText(text: string): FormattedPayload {
  const shown = text.length > DISPLAY_LIMIT ? text.slice(0, DISPLAY_LIMIT) : text;
  const omitted = text.length - shown.length;
  const start = text.trimStart()[0];
  if (omitted === 0 && (start === '{' || start === '[' || start === '"')) {
    try {
      return { kind: 'json', text: JSON.stringify(JSON.parse(text), null, 2), omitted: 0 };
    } catch {
      // not JSON after all: shown as text
    }
  }
  return { kind: 'text', text: shown, omitted };
}

export function formatPayload(payload: EnvelopePayload): FormattedPayload {
  if (payload.data !== undefined) {
    if (payload.data === '') return { kind: 'empty', text: '', omitted: 0 };
    if (!CONTROL.test(payload.data)) return formatText(payload.data);
    return formatBytes(new TextEncoder().encode(payload.data));
  }
  return formatBytes(bytesOfBase64(payload.data_base64 ?? ''));
}

function formatBytes(bytes: Uint8Array): FormattedPayload {
  if (bytes.length === 0) return { kind: 'empty', text: '', omitted: 0 };
  const shown = bytes.subarray(0, DISPLAY_LIMIT);
  return { kind: 'hex', text: hexDump(shown), omitted: bytes.length - shown.length };
}
