// Standard clients against a running `pinline serve`, with their defaults:
// graphql-http's server audits (every MUST must pass; SHOULDs and MAYs are
// printed), then the graphql-ws client (a query and a subscription over
// graphql-transport-ws, a refused token), then the protocol's close codes
// with a raw socket. Usage: node run.mjs http://HOST:PORT EMAIL PASSWORD
// Exit code 0 when everything held; the failures are printed otherwise.
import { serverAudits } from 'graphql-http';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { readFileSync } from 'node:fs';
import {
  buildClientSchema, buildSchema, getIntrospectionQuery, lexicographicSortSchema, printSchema,
} from 'graphql';

const [base, email, password] = process.argv.slice(2);
const url = `${base}/graphql`;
const wsUrl = url.replace(/^http/, 'ws') + '/ws';
const failures = [];
const fail = (what) => { failures.push(what); console.log(`FAIL ${what}`); };

// 1. GraphQL over HTTP.
let musts = 0;
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  if (result.status === 'ok') {
    if (audit.name.startsWith('MUST')) musts += 1;
    continue;
  }
  const line = `${audit.id} ${audit.name}: ${result.reason}`;
  if (audit.name.startsWith('MUST')) fail(`graphql-http ${line}`);
  else console.log(`note (${result.status}) ${line}`);
}
console.log(`graphql-http: ${musts} MUST audits passed`);

// 2. The committed schema.graphql declares what introspection of the live
// schema shows (types, descriptions, @specifiedBy, directives).
const introspection = await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ query: getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, oneOf: true }) }),
}).then((r) => r.json());
const committedText = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
const live = printSchema(lexicographicSortSchema(buildClientSchema(introspection.data)));
const committed = printSchema(lexicographicSortSchema(buildSchema(committedText)));
if (live !== committed) {
  const a = live.split('\n'), b = committed.split('\n');
  const at = a.findIndex((line, i) => line !== b[i]);
  fail(`schema.graphql differs from the live schema at line ${at + 1}: live ${JSON.stringify(a[at])}, committed ${JSON.stringify(b[at])}`);
} else {
  console.log('schema.graphql matches the live schema');
}
for (const d of introspection.data.__schema.directives.map((d) => d.name)) {
  if (!committedText.includes(`directive @${d}`)) fail(`schema.graphql lacks the live directive @${d}`);
}

// 3. The graphql-ws client.
const login = await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    query: 'mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }',
    variables: { e: email, p: password },
  }),
}).then((r) => r.json());
const token = login?.data?.login?.token;
if (!token) fail(`login: ${JSON.stringify(login)}`);

const withTimeout = (promise, ms, what) =>
  Promise.race([promise, new Promise((_, no) => setTimeout(() => no(new Error(`${what}: timeout`)), ms))]);

const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { token }, retryAttempts: 0 });
try {
  const me = await withTimeout(
    new Promise((resolve, reject) => {
      let got;
      client.subscribe({ query: '{ me { email } }' }, { next: (v) => { got = v; }, error: reject, complete: () => resolve(got) });
    }),
    10000,
    'query over graphql-ws',
  );
  if (me?.data?.me?.email !== email) fail(`graphql-ws query: ${JSON.stringify(me)}`);
  const first = await withTimeout(
    new Promise((resolve, reject) => {
      const dispose = client.subscribe(
        { query: 'subscription { agentEvents { __typename } }' },
        { next: (v) => { dispose(); resolve(v); }, error: reject, complete: () => {} },
      );
    }),
    10000,
    'subscription over graphql-ws',
  );
  if (!first?.data?.agentEvents?.__typename) fail(`graphql-ws subscription: ${JSON.stringify(first)}`);
  const invalid = await withTimeout(
    new Promise((resolve) => {
      client.subscribe({ query: 'subscription { noSuchField }' }, { next: () => {}, error: resolve, complete: () => resolve(null) });
    }),
    10000,
    'invalid subscription',
  );
  const code = Array.isArray(invalid) ? invalid[0]?.extensions?.code : undefined;
  if (code !== 'VALIDATION') fail(`graphql-ws validation error: ${JSON.stringify(invalid)}`);
} catch (e) {
  fail(`graphql-ws: ${e?.message ?? (e?.code ? `closed ${e.code} ${e.reason}` : JSON.stringify(e))}`);
} finally {
  await client.dispose();
}

const refused = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { token: 'forged' }, retryAttempts: 0 });
const closeCode = await withTimeout(
  new Promise((resolve) => {
    refused.on('closed', (event) => resolve(event.code));
    refused.subscribe({ query: '{ __typename }' }, { next: () => {}, error: () => {}, complete: () => {} });
  }),
  10000,
  'forged token',
).catch((e) => e.message);
refused.dispose();
if (closeCode !== 4403) fail(`graphql-ws forged token: closed with ${closeCode}, expected 4403`);

// 4. Close codes with a raw socket.
async function closeCodeOf(messages) {
  return withTimeout(
    new Promise((resolve) => {
      const ws = new WebSocket(wsUrl, 'graphql-transport-ws');
      ws.on('open', () => messages.forEach((m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m))));
      ws.on('close', (code) => resolve(code));
      ws.on('error', () => {});
    }),
    15000,
    'close code',
  ).catch((e) => e.message);
}
const init = { type: 'connection_init', payload: { token } };
const sub = (id) => ({ type: 'subscribe', id, payload: { query: 'subscription { agentEvents { __typename } }' } });
for (const [name, messages, expected] of [
  ['bad message', ['{"type":"nonsense"}'], 4400],
  ['subscribe before ack', [sub('1')], 4401],
  ['forbidden token', [{ type: 'connection_init', payload: { token: 'forged' } }], 4403],
  ['duplicate id', [init, sub('a'), sub('a')], 4409],
  ['two inits', [init, init], 4429],
]) {
  const got = await closeCodeOf(messages);
  if (got !== expected) fail(`close code for ${name}: ${got}, expected ${expected}`);
  else console.log(`close ${expected} for ${name}`);
}

if (failures.length) {
  console.log(`${failures.length} failure(s)`);
  process.exit(1);
}
console.log('conformance: all checks held');
