// Helpers of the users and cloud files: unique names, bounded polling, raw session
// checks, and sign-in at the live run's local OpenID Connect provider.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { MASTER, Parse, rest } from './setup.mjs';

/** A name no earlier run of the suite used (usernames, role names, markers). */
export function unique(prefix) {
  return `${prefix}_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/**
 * Calls `probe` until it returns a truthy value and returns that value; fails after
 * `attempts` tries. For work the server finishes after answering (after-save
 * triggers, jobs, mails), so the wait is bounded but nothing is timed.
 */
export async function eventually(probe, options = {}) {
  const { attempts = 100, delayMs = 100, what = 'condition' } = options;
  let last;
  for (let i = 0; i < attempts; i += 1) {
    last = await probe();
    if (last) {
      return last;
    }
    await sleep(delayMs);
  }
  assert.fail(`${what} did not happen (last value: ${JSON.stringify(last)})`);
}

/** `GET /users/me` with `token` alone: `{status, body}` (209 once the session is gone). */
export function whoIsToken(token) {
  return rest('GET', 'users/me', { headers: { 'X-Parse-Session-Token': token } });
}

/**
 * Forget the SDK's current user without logging out (its session stays valid), so
 * the next calls are made as the public unless they name a session token.
 */
export async function forgetCurrentUser() {
  await Parse.CoreManager.getUserController().removeUserFromDisk();
}

/** The mails the server recorded for `email` (the master-only `mailbox` function). */
export function mailbox(email) {
  return Parse.Cloud.run('mailbox', { email }, MASTER);
}

// --- the local OpenID Connect provider (tests/live/oidc_stand_in.py) ------------------

export const OIDC_ISSUER = process.env.PARSE_TEST_OIDC_ISSUER;
export const OIDC_CLIENT_ID = process.env.PARSE_TEST_OIDC_CLIENT_ID;
export const OIDC_SKIP = OIDC_ISSUER && OIDC_CLIENT_ID
  ? false
  : 'no local OIDC provider: PARSE_TEST_OIDC_ISSUER is set by tests/live/run_live.py';

async function oidcConfiguration() {
  const response = await fetch(`${OIDC_ISSUER}/.well-known/openid-configuration`);
  assert.equal(response.status, 200);
  return response.json();
}

/**
 * What a mobile app's sign-in library does: the authorization code flow with PKCE
 * and a nonce at the provider, over HTTP. Returns the provider's ID token for `sub`.
 */
export async function oidcSignIn(sub) {
  const config = await oidcConfiguration();
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const redirectUri = 'com.example.app:/oauth2redirect';
  const state = randomBytes(8).toString('hex');
  const authorize = new URL(config.authorization_endpoint);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: OIDC_CLIENT_ID,
    redirect_uri: redirectUri,
    scope: 'openid email profile',
    state,
    nonce: randomBytes(8).toString('hex'),
    login_hint: sub,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  const approved = await fetch(authorize, { redirect: 'manual' });
  assert.equal(approved.status, 302, await approved.text());
  const back = new URL(approved.headers.get('location')).searchParams;
  assert.equal(back.get('state'), state);
  const tokens = await fetch(config.token_endpoint, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: back.get('code'),
      redirect_uri: redirectUri,
      client_id: OIDC_CLIENT_ID,
      code_verifier: verifier,
    }),
  });
  assert.equal(tokens.status, 200, await tokens.clone().text());
  const { id_token: idToken } = await tokens.json();
  assert.equal(typeof idToken, 'string');
  return idToken;
}

/**
 * An ID token with every claim right but signed with a key of our own, under the
 * provider's key id: only the signature can tell it from a real one.
 */
export async function forgedIdToken(sub) {
  const config = await oidcConfiguration();
  const jwks = await (await fetch(config.jwks_uri)).json();
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = Math.floor(Date.now() / 1000);
  const encode = (part) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const header = encode({ alg: 'RS256', typ: 'JWT', kid: jwks.keys[0].kid });
  const payload = encode({
    iss: OIDC_ISSUER,
    aud: OIDC_CLIENT_ID,
    sub,
    iat: now,
    exp: now + 600,
  });
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), privateKey);
  return `${header}.${payload}.${signature.toString('base64url')}`;
}
