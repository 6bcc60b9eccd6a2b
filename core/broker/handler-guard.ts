// A subscription handler is gateway code; if it throws, the error must not
// unwind into the core (embedded: the publisher's connection; NatsBroker: the
// client's reader, which would close the whole connection). NatsBroker wraps
// handlers with this, EmbeddedBroker catches in its subscription's deliver, so a
// failing handler is reported (reportHandlerError) and routing goes on.

import type { BrokerMessage, MessageHandler } from './broker.ts';

export type HandlerErrorListener = (error: unknown, subject: string) => void;

export function reportHandlerError(error: unknown, subject: string): void {
  const detail = error instanceof Error ? error.stack ?? error.message : String(error);
  process.stderr.write(`switchboard: subscription handler for ${JSON.stringify(subject)} failed: ${detail}\n`);
}

export function guardHandler(handler: MessageHandler, onError: HandlerErrorListener): MessageHandler {
  return (message: BrokerMessage) => {
    try {
      handler(message);
    } catch (error) {
      onError(error, message.subject);
    }
  };
}
