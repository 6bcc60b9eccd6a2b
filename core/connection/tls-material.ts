// The TLS material of one listener (NATS, MQTT, HTTP, WebSocket, monitoring),
// read and checked when the listener is built, so a missing file, a key that
// does not match its certificate or an unusable CA stops startup with the
// config key that names it (`mqtt.tls.key_file`) before anything listens, and
// a reload with bad material is refused the same way while the old one stays.

import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as NetServer } from 'node:net';
import { createSecureContext, Server as TlsServer, type SecureContext, type TLSSocket, type TlsOptions as NodeTlsOptions } from 'node:tls';
import { ConfigError } from '../config/config-error.ts';
import type { TlsOptions } from '../config/tls-options.ts';

/** What node's tls/https servers take: the files' bytes and nats-server's client-certificate policy. */
export type TlsServerOptions = NodeTlsOptions & { handshakeTimeout: number };

function read(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new ConfigError(key, `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
  }
}

/** `key` is the block's config key (`tls`, `mqtt.tls`, ...). Throws ConfigError naming the block, or the file when one is at fault. */
export function tlsServerOptions(tls: TlsOptions, key: string): TlsServerOptions {
  const options: TlsServerOptions = {
    cert: read(tls.certFile, `${key}.cert_file`),
    key: read(tls.keyFile, `${key}.key_file`),
    ca: tls.caFile === undefined ? undefined : read(tls.caFile, `${key}.ca_file`),
    minVersion: tls.minVersion,
    ...(tls.ciphers === undefined ? {} : { ciphers: tls.ciphers }),
    // verify and verify_and_map: a client without a certificate signed by ca_file fails the handshake.
    requestCert: tls.verify,
    rejectUnauthorized: tls.verify,
    handshakeTimeout: tls.timeoutMs,
  };
  try {
    createSecureContext(options);
    // OpenSSL only notices a key of another type than the certificate at the first handshake: check now.
    if (!new X509Certificate(options.cert as Buffer).checkPrivateKey(createPrivateKey(options.key as Buffer))) {
      throw new ConfigError(`${key}.key_file`, `${tls.keyFile} is not the private key of ${tls.certFile}`);
    }
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError(key, `certificate, key or CA not usable: ${reason}`, { cause });
  }
  return options;
}

/** A SecureContext for a socket upgraded in place (the NATS listener's INFO-then-handshake). */
export function createTlsContext(options: TlsServerOptions): SecureContext {
  return createSecureContext(options);
}

/**
 * A reload's new certificate, key and CA on a listening HTTPS or TLS server
 * (tls.Server.setSecureContext): handshakes from now on use them, connections
 * already up keep theirs. A plain HTTP server (no tls block) is left alone.
 */
export function replaceServerTls(server: NetServer | null, material: TlsServerOptions): void {
  // https.Server is a tls.Server.
  if (server instanceof TlsServer) server.setSecureContext(material);
}

type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * fastify's serverFactory for a listener that is HTTPS when it has TLS
 * material (HTTP gateway, WebSocket): failed handshakes (timeout, plain text,
 * an untrusted client certificate) close that socket and are reported.
 */
export function httpServerFactory(tls: TlsServerOptions | undefined, onTlsError?: (error: Error, remote: string) => void): (handler: RequestHandler) => HttpServer {
  return (handler) => {
    if (tls === undefined) return createHttpServer(handler);
    const server = createHttpsServer(tls, handler);
    server.on('tlsClientError', closeFailedHandshake(onTlsError));
    return server;
  };
}

/**
 * A tls.Server's 'tlsClientError' handler. Node leaves the socket open once a
 * listener is attached (a handshake timeout would otherwise keep a silent peer
 * forever), so this closes it, then reports.
 */
export function closeFailedHandshake(onTlsError?: (error: Error, remote: string) => void): (error: Error, socket: TLSSocket) => void {
  return (error, socket) => {
    socket.destroy();
    onTlsError?.(error, socket.remoteAddress ?? '');
  };
}
