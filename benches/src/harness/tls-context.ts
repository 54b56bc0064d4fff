import tls from 'node:tls';
import { testPki } from '@berth/testkit';

/** One SecureContext trusting the test CA, shared by the peers (as Berth shares one). */
export async function sharedContext(): Promise<tls.SecureContext> {
  const { ca } = await testPki();
  return tls.createSecureContext({ ca: ca.cert });
}

/** The test CA, for peers that take `ca` per connection. */
export async function testCa(): Promise<string> {
  return (await testPki()).ca.cert;
}
