// A real OpenID provider for the single sign-on tests: the `oidc-provider`
// package from npm (an OpenID Certified implementation), on loopback.
//
//   node tests/oidc/provider.mjs <node_modules dir> <port> <client id> <client secret> <redirect uri>
//
// Prints "issuer <url>" once it listens. Its development login form takes
// any login and password; the login is the account's email, vouched for as
// verified unless it starts with "unverified.".
//
// To test what Pulse refuses, `POST /__tamper?mode=<m>` makes the provider
// misbehave once, on the next ID token it issues: `key` signs it with
// another key under the published key id, `aud` names another client,
// `exp` has it expired an hour ago, `nonce` answers another sign-in. The
// token is otherwise the provider's own, re-signed with its own key.
// `GET /__last_callback` tells where it last sent a browser back to Pulse.
import { pathToFileURL } from 'node:url';
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';

const [modules, port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const load = (pkg, file) => import(pathToFileURL(path.join(modules, pkg, file)).href);
const { default: Provider } = await load('oidc-provider', 'lib/index.js');
const jose = await load('jose', 'dist/webapi/index.js');

const kid = 'pulse-test-key';
const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const signing = rsa();
const impostor = rsa();
const signingJwk = { ...signing.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };

const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  cookies: { keys: ['pulse tests only'] },
  jwks: { keys: [signingJwk] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: !id.startsWith('unverified.') };
      },
    };
  },
  // Consent is the company's, given once for Pulse: skip the consent screen.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email');
    grant.addOIDCClaims(['email', 'email_verified']);
    await grant.save();
    return grant;
  },
});
let tamper = null;
let lastCallback = '';
provider.use(async (ctx, next) => {
  if (ctx.path === '/__tamper' && ctx.method === 'POST') {
    tamper = ctx.query.mode || null;
    ctx.status = 204;
    return;
  }
  if (ctx.path === '/__last_callback') {
    ctx.body = lastCallback;
    return;
  }
  await next();
  const location = ctx.response.get('Location');
  if (location && location.startsWith(redirectUri)) lastCallback = location;
  if (ctx.path === '/token' && tamper && ctx.body && ctx.body.id_token) {
    const claims = jose.decodeJwt(ctx.body.id_token);
    const now = Math.floor(Date.now() / 1000);
    if (tamper === 'aud') claims.aud = 'another-application';
    if (tamper === 'exp') { claims.iat = now - 7200; claims.exp = now - 3600; }
    if (tamper === 'nonce') claims.nonce = 'the nonce of another sign-in';
    const key = tamper === 'key' ? impostor : signing;
    ctx.body = {
      ...ctx.body,
      id_token: await new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(key),
    };
    tamper = null;
  }
});
provider.proxy = false;
const server = provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`issuer ${issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
