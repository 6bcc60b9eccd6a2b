// The Broker port's headers: what a gateway or connector reads from and
// writes to a message's header block (DESIGN "Layout": the Broker port with
// its headers and errors). One implementation, the NATS protocol's, so a
// header travels unchanged between protocols; named here so the port's users
// never reach into core/protocol.

export { HeaderParseError, MessageHeaders, parseHeaders } from '../protocol/headers.ts';
