// Users, sessions, roles and ACLs through Parse.User, Parse.Session and Parse.Role;
// authData (anonymous, the offline `conformance` provider, OpenID Connect at the live
// run's local provider) and the password reset mail and page.
import assert from 'node:assert/strict';
import { before, beforeEach, describe, test } from 'node:test';

import {
  OIDC_SKIP,
  eventually,
  forgedIdToken,
  forgetCurrentUser,
  mailbox,
  oidcSignIn,
  unique,
  whoIsToken,
} from '../lib/accounts.mjs';
import { MASTER, Parse, freshClass, idsOf, rejectsWithCode, rest } from '../lib/setup.mjs';

const SECRET = 'UserSecret';
const PASSWORD = 'correct horse';

Parse.User.enableUnsafeCurrentUser();

before(async () => {
  await freshClass(SECRET, { label: 'String' });
});

// Every test starts as the public; sessions made by earlier tests stay valid.
beforeEach(forgetCurrentUser);

/** A new user signed up through REST, so the SDK's current user is left alone. */
async function newUser(prefix = 'user', extra = {}) {
  const username = unique(prefix);
  const answer = await rest('POST', 'users', {
    body: { username, password: PASSWORD, ...extra },
  });
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  return { id: answer.body.objectId, username, token: answer.body.sessionToken, ...extra };
}

/** An object of SECRET with `acl`, created with the master key. */
async function secretWith(acl, label) {
  const obj = new Parse.Object(SECRET);
  obj.setACL(acl);
  return obj.save({ label }, MASTER);
}

async function visibleTo(sessionToken, label) {
  const options = sessionToken ? { sessionToken } : {};
  const query = new Parse.Query(SECRET).equalTo('label', label);
  const found = await query.find(options);
  const count = await new Parse.Query(SECRET).equalTo('label', label).count(options);
  return { ids: idsOf(found), count };
}

describe('sign up, log in, become, log out', () => {
  test('signUp creates the user, a revocable session and the current user', async () => {
    const username = unique('signup');
    const user = await Parse.User.signUp(username, PASSWORD, { color: 'blue' });
    assert.match(user.id, /^[A-Za-z0-9]{10}$/);
    assert.match(user.getSessionToken(), /^r:[0-9a-f]{32}$/);
    assert.equal(user.get('password'), undefined);
    assert.equal(Parse.User.current().id, user.id);
    assert.equal(Parse.User.current().get('color'), 'blue');
    const me = await whoIsToken(user.getSessionToken());
    assert.equal(me.status, 200);
    assert.equal(me.body.username, username);
  });

  test('logIn opens a new session; a wrong password fails with 101', async () => {
    const { id, username, token } = await newUser('login');
    const user = await Parse.User.logIn(username, PASSWORD);
    assert.equal(user.id, id);
    assert.notEqual(user.getSessionToken(), token);
    assert.equal(user.authenticated(), true);
    assert.equal(Parse.User.current().id, id);
    await rejectsWithCode(
      Parse.User.logIn(username, 'wrong password'),
      Parse.Error.OBJECT_NOT_FOUND,
      /Invalid username\/password/,
    );
  });

  test('become turns a session token into the current user', async () => {
    const { id, username, token } = await newUser('become');
    const user = await Parse.User.become(token);
    assert.equal(user.id, id);
    assert.equal(user.getUsername(), username);
    assert.equal(user.getSessionToken(), token);
    assert.equal(Parse.User.current().id, id);
    await rejectsWithCode(
      Parse.User.become('r:00000000000000000000000000000000'),
      Parse.Error.INVALID_SESSION_TOKEN,
    );
  });

  test('logOut ends the session: the old token answers 209', async () => {
    const user = await Parse.User.signUp(unique('logout'), PASSWORD);
    const token = user.getSessionToken();
    assert.equal((await whoIsToken(token)).status, 200);
    await Parse.User.logOut();
    assert.equal(Parse.User.current(), null);
    const after = await whoIsToken(token);
    assert.equal(after.body.code, Parse.Error.INVALID_SESSION_TOKEN, JSON.stringify(after.body));
    assert.equal(after.status, 400);
  });

  test('a taken username fails with 202, a taken email with 203', async () => {
    const email = `${unique('dup')}@example.com`.toLowerCase();
    const { username } = await newUser('dup', { email });
    await rejectsWithCode(
      Parse.User.signUp(username, PASSWORD),
      Parse.Error.USERNAME_TAKEN,
      /Account already exists for this username/,
    );
    await rejectsWithCode(
      Parse.User.signUp(unique('dup'), PASSWORD, { email }),
      Parse.Error.EMAIL_TAKEN,
      /Account already exists for this email address/,
    );
  });
});

describe('the current user', () => {
  test('set + save updates the current user on the server', async () => {
    const email = `${unique('me')}@example.com`.toLowerCase();
    const user = await Parse.User.signUp(unique('me'), PASSWORD, { email });
    const current = Parse.User.current();
    current.set('nickname', 'Ace');
    current.increment('visits');
    await current.save();
    const fresh = await new Parse.Query(Parse.User).get(user.id, MASTER);
    assert.equal(fresh.get('nickname'), 'Ace');
    assert.equal(fresh.get('visits'), 1);
    assert.equal(current.getSessionToken(), user.getSessionToken());
  });

  test('a user is private by default; email is shown to the user alone', async () => {
    const email = `${unique('private')}@example.com`.toLowerCase();
    const owner = await newUser('private', { email });
    const other = await newUser('other');
    // private users: nobody else reads the user at all
    await rejectsWithCode(
      new Parse.Query(Parse.User).get(owner.id, { sessionToken: other.token }),
      Parse.Error.OBJECT_NOT_FOUND,
    );
    // made publicly readable, the user is found by others, without its email
    const user = await Parse.User.become(owner.token);
    const acl = new Parse.ACL(user);
    acl.setPublicReadAccess(true);
    user.setACL(acl);
    await user.save();
    await forgetCurrentUser();
    const seen = await new Parse.Query(Parse.User).get(owner.id, { sessionToken: other.token });
    assert.equal(seen.getUsername(), owner.username);
    assert.equal(seen.get('email'), undefined);
    const publicSeen = await rest('GET', `users/${owner.id}`);
    assert.equal(publicSeen.status, 200);
    assert.equal('email' in publicSeen.body, false);
    const self = await new Parse.Query(Parse.User).get(owner.id, { sessionToken: owner.token });
    assert.equal(self.get('email'), email);
    const master = await new Parse.Query(Parse.User).get(owner.id, MASTER);
    assert.equal(master.get('email'), email);
  });

  test('another user cannot change a user', async () => {
    const owner = await newUser('victim');
    const other = await newUser('intruder');
    const target = Parse.User.createWithoutData(owner.id);
    target.set('nickname', 'hacked');
    // Parse answers 206 "Insufficient auth.", sanitized to "Permission denied"
    await rejectsWithCode(
      target.save(null, { sessionToken: other.token }),
      Parse.Error.SESSION_MISSING,
      /^Permission denied$/,
    );
    const fresh = await new Parse.Query(Parse.User).get(owner.id, MASTER);
    assert.equal(fresh.get('nickname'), undefined);
  });
});

describe('sessions', () => {
  test('Parse.Session.current describes the current session', async () => {
    const user = await Parse.User.signUp(unique('session'), PASSWORD);
    const session = await Parse.Session.current();
    assert.equal(session.getSessionToken(), user.getSessionToken());
    assert.equal(session.get('user').id, user.id);
    assert.ok(session.get('expiresAt') instanceof Date);
    assert.equal(Parse.Session.isCurrentSessionRevocable(), true);
  });

  test('a user finds its own sessions only and can revoke one (then 209)', async () => {
    const me = await newUser('sessions');
    const second = await rest('POST', 'login', {
      body: { username: me.username, password: PASSWORD },
    });
    assert.equal(second.status, 200);
    const otherToken = second.body.sessionToken;
    await newUser('someone'); // a session of somebody else

    const mine = await new Parse.Query(Parse.Session).find({ sessionToken: me.token });
    assert.equal(mine.length, 2);
    for (const session of mine) {
      assert.equal(session.get('user').id, me.id);
    }
    // backend_kit keeps tokens hashed: only the caller's own session shows its token
    const current = await rest('GET', 'sessions/me', {
      headers: { 'X-Parse-Session-Token': me.token },
    });
    assert.equal(current.status, 200);
    const kept = mine.find((s) => s.id === current.body.objectId);
    assert.equal(kept.getSessionToken(), me.token);

    const victim = mine.find((s) => s !== kept);
    await victim.destroy({ sessionToken: me.token });
    const revoked = await whoIsToken(otherToken);
    assert.equal(revoked.body.code, Parse.Error.INVALID_SESSION_TOKEN);
    assert.equal((await whoIsToken(me.token)).status, 200);
    const left = await new Parse.Query(Parse.Session).find({ sessionToken: me.token });
    assert.deepEqual(idsOf(left), [kept.id]);
  });

  test('sessions are not readable without a session', async () => {
    await newUser('nosession');
    const answer = await rest('GET', 'sessions');
    assert.equal(answer.body.code, Parse.Error.INVALID_SESSION_TOKEN);
  });
});

describe('roles and ACLs', () => {
  let alice;
  let bob;
  let carol;
  let editors;
  let seniors;

  before(async () => {
    [alice, bob, carol] = await Promise.all([newUser('alice'), newUser('bob'), newUser('carol')]);
    const roleACL = new Parse.ACL();
    roleACL.setPublicReadAccess(true);
    seniors = new Parse.Role(unique('Seniors'), roleACL);
    seniors.getUsers().add(Parse.User.createWithoutData(bob.id));
    await seniors.save(null, MASTER);
    editors = new Parse.Role(unique('Editors'), roleACL);
    editors.getUsers().add(Parse.User.createWithoutData(alice.id));
    // members of a child role hold the parent's rights
    editors.getRoles().add(seniors);
    await editors.save(null, MASTER);
  });

  test('roles are found by name with their users and child roles', async () => {
    const found = await new Parse.Query(Parse.Role).equalTo('name', editors.getName()).first();
    assert.equal(found.id, editors.id);
    const users = await found.getUsers().query().find(MASTER);
    assert.deepEqual(idsOf(users), [alice.id]);
    const children = await found.getRoles().query().find();
    assert.deepEqual(idsOf(children), [seniors.id]);
  });

  test('a role name is unique', async () => {
    const again = new Parse.Role(editors.getName(), new Parse.ACL());
    await rejectsWithCode(again.save(null, MASTER), Parse.Error.DUPLICATE_VALUE);
  });

  test('an object readable by one user is invisible to others (find, get, count)', async () => {
    const label = unique('user-acl');
    const acl = new Parse.ACL();
    acl.setReadAccess(alice.id, true);
    const obj = await secretWith(acl, label);
    assert.deepEqual(await visibleTo(alice.token, label), { ids: [obj.id], count: 1 });
    assert.deepEqual(await visibleTo(bob.token, label), { ids: [], count: 0 });
    assert.deepEqual(await visibleTo(null, label), { ids: [], count: 0 });
    const got = await new Parse.Query(SECRET).get(obj.id, { sessionToken: alice.token });
    assert.equal(got.get('label'), label);
    await rejectsWithCode(
      new Parse.Query(SECRET).get(obj.id, { sessionToken: bob.token }),
      Parse.Error.OBJECT_NOT_FOUND,
    );
    await rejectsWithCode(new Parse.Query(SECRET).get(obj.id), Parse.Error.OBJECT_NOT_FOUND);
  });

  test('an object readable by a role reaches its users and child roles only', async () => {
    const label = unique('role-acl');
    const acl = new Parse.ACL();
    acl.setRoleReadAccess(editors, true);
    const obj = await secretWith(acl, label);
    assert.deepEqual(await visibleTo(alice.token, label), { ids: [obj.id], count: 1 });
    // bob is in Seniors, a child role of Editors
    assert.deepEqual(await visibleTo(bob.token, label), { ids: [obj.id], count: 1 });
    assert.deepEqual(await visibleTo(carol.token, label), { ids: [], count: 0 });
    assert.deepEqual(await visibleTo(null, label), { ids: [], count: 0 });
    await rejectsWithCode(
      new Parse.Query(SECRET).get(obj.id, { sessionToken: carol.token }),
      Parse.Error.OBJECT_NOT_FOUND,
    );
    const got = await new Parse.Query(SECRET).get(obj.id, { sessionToken: bob.token });
    assert.equal(got.id, obj.id);
  });

  test('a parent role does not reach the child role', async () => {
    const label = unique('child-acl');
    const acl = new Parse.ACL();
    acl.setRoleReadAccess(seniors, true);
    const obj = await secretWith(acl, label);
    assert.deepEqual(await visibleTo(bob.token, label), { ids: [obj.id], count: 1 });
    assert.deepEqual(await visibleTo(alice.token, label), { ids: [], count: 0 });
  });

  test('write access follows the ACL too', async () => {
    const label = unique('write-acl');
    const acl = new Parse.ACL();
    acl.setPublicReadAccess(true);
    acl.setRoleWriteAccess(editors, true);
    const obj = await secretWith(acl, label);
    const asCarol = await new Parse.Query(SECRET).get(obj.id, { sessionToken: carol.token });
    asCarol.set('label', `${label}-carol`);
    await rejectsWithCode(
      asCarol.save(null, { sessionToken: carol.token }),
      Parse.Error.OBJECT_NOT_FOUND,
    );
    const asAlice = await new Parse.Query(SECRET).get(obj.id, { sessionToken: alice.token });
    asAlice.set('label', `${label}-alice`);
    await asAlice.save(null, { sessionToken: alice.token });
    const fresh = await new Parse.Query(SECRET).get(obj.id);
    assert.equal(fresh.get('label'), `${label}-alice`);
  });
});

describe('authData: anonymous', () => {
  test('AnonymousUtils.logIn creates a user with a session', async () => {
    const user = await Parse.AnonymousUtils.logIn();
    assert.equal(Parse.AnonymousUtils.isLinked(user), true);
    assert.equal(typeof user.get('authData').anonymous.id, 'string');
    assert.match(user.getSessionToken(), /^r:/);
    user.set('field', 'hello');
    await user.save();
    const me = await whoIsToken(user.getSessionToken());
    assert.equal(me.body.objectId, user.id);
    assert.equal(me.body.field, 'hello');
  });

  test('the same anonymous id logs into the same user', async () => {
    const first = await Parse.AnonymousUtils.logIn();
    const anonymousId = first.get('authData').anonymous.id;
    await forgetCurrentUser();
    const again = await Parse.User.logInWith('anonymous', { authData: { id: anonymousId } });
    assert.equal(again.id, first.id);
    assert.notEqual(again.getSessionToken(), first.getSessionToken());
  });

  test('AnonymousUtils.link adds an anonymous identity to a signed-up user', async () => {
    const user = await Parse.User.signUp(unique('anonlink'), PASSWORD);
    const token = user.getSessionToken();
    await Parse.AnonymousUtils.link(user);
    assert.equal(Parse.AnonymousUtils.isLinked(user), true);
    assert.equal(user.getSessionToken(), token);
    const fresh = await new Parse.Query(Parse.User).get(user.id, MASTER);
    assert.equal(fresh.get('authData').anonymous.id, user.get('authData').anonymous.id);
  });

  test('signing up an anonymous user keeps its data and drops anonymity', async () => {
    const user = await Parse.AnonymousUtils.logIn();
    user.set('field', 'kept');
    await user.save();
    const username = unique('upgraded');
    user.setUsername(username);
    user.setPassword(PASSWORD);
    await user.signUp();
    const fresh = await new Parse.Query(Parse.User).get(user.id, MASTER);
    assert.equal(fresh.getUsername(), username);
    assert.equal(fresh.get('field'), 'kept');
    assert.equal(fresh.get('authData'), undefined);
    const again = await Parse.User.logIn(username, PASSWORD);
    assert.equal(again.id, user.id);
  });
});

describe('authData: the offline conformance provider', () => {
  test('a valid token signs up, then logs into the same user', async () => {
    const id = unique('conf');
    const user = await Parse.User.logInWith('conformance', {
      authData: { id, token: `valid-${id}` },
    });
    assert.match(user.getSessionToken(), /^r:/);
    assert.equal(user._isLinked('conformance'), true);
    await forgetCurrentUser();
    const again = await Parse.User.logInWith('conformance', {
      authData: { id, token: `valid-${id}` },
    });
    assert.equal(again.id, user.id);
  });

  test('an invalid token fails with 101', async () => {
    const id = unique('conf');
    await rejectsWithCode(
      Parse.User.logInWith('conformance', { authData: { id, token: `valid-${id}x` } }),
      Parse.Error.OBJECT_NOT_FOUND,
      /^conformance auth: invalid token$/,
    );
  });

  test('a signed-up user links and unlinks the provider', async () => {
    const user = await Parse.User.signUp(unique('linker'), PASSWORD);
    const id = unique('conf');
    await user.linkWith('conformance', { authData: { id, token: `valid-${id}` } });
    assert.equal(user._isLinked('conformance'), true);
    const linked = await new Parse.Query(Parse.User).get(user.id, MASTER);
    assert.equal(linked.get('authData').conformance.id, id);
    await user._unlinkFrom('conformance');
    const unlinked = await new Parse.Query(Parse.User).get(user.id, MASTER);
    assert.equal(unlinked.get('authData')?.conformance, undefined);
  });

  test('a provider that is not enabled fails with 252', async () => {
    await rejectsWithCode(
      Parse.User.logInWith('facebook', { authData: { id: '1', access_token: 'x' } }),
      Parse.Error.UNSUPPORTED_SERVICE,
      /This authentication method is unsupported/,
    );
  });
});

describe('authData: OpenID Connect at the local provider', { skip: OIDC_SKIP }, () => {
  test('an ID token from the provider signs up, then logs into the same user', async () => {
    const sub = unique('sub');
    const user = await Parse.User.logInWith('oidc', {
      authData: { id: sub, id_token: await oidcSignIn(sub) },
    });
    assert.match(user.getSessionToken(), /^r:/);
    await forgetCurrentUser();
    const again = await Parse.User.logInWith('oidc', {
      authData: { id: sub, id_token: await oidcSignIn(sub) },
    });
    assert.equal(again.id, user.id);
  });

  test('linkWith adds the identity to a signed-up user', async () => {
    const user = await Parse.User.signUp(unique('oidclink'), PASSWORD);
    const sub = unique('sub');
    await user.linkWith('oidc', { authData: { id: sub, id_token: await oidcSignIn(sub) } });
    assert.equal(user._isLinked('oidc'), true);
    await forgetCurrentUser();
    const viaProvider = await Parse.User.logInWith('oidc', {
      authData: { id: sub, id_token: await oidcSignIn(sub) },
    });
    assert.equal(viaProvider.id, user.id);
  });

  test('an anonymous user linked to the provider stops being anonymous', async () => {
    const user = await Parse.AnonymousUtils.logIn();
    const sub = unique('sub');
    await user.linkWith('oidc', { authData: { id: sub, id_token: await oidcSignIn(sub) } });
    assert.equal(user._isLinked('oidc'), true);
    assert.equal(Parse.AnonymousUtils.isLinked(user), false);
    const fresh = await new Parse.Query(Parse.User).get(user.id, MASTER);
    assert.deepEqual(Object.keys(fresh.get('authData')), ['oidc']);
  });

  test('a token of another user fails with 101', async () => {
    const token = await oidcSignIn(unique('sub'));
    await rejectsWithCode(
      Parse.User.logInWith('oidc', { authData: { id: unique('sub'), id_token: token } }),
      Parse.Error.OBJECT_NOT_FOUND,
    );
  });

  test('a token signed with another key fails with 251', async () => {
    const sub = unique('sub');
    await rejectsWithCode(
      Parse.User.logInWith('oidc', { authData: { id: sub, id_token: await forgedIdToken(sub) } }),
      Parse.Error.INVALID_LINKED_SESSION,
    );
  });

  test('an identity already linked to another user fails with 208', async () => {
    const sub = unique('sub');
    await Parse.User.logInWith('oidc', { authData: { id: sub, id_token: await oidcSignIn(sub) } });
    const other = await Parse.User.signUp(unique('second'), PASSWORD);
    await rejectsWithCode(
      other.linkWith('oidc', { authData: { id: sub, id_token: await oidcSignIn(sub) } }),
      Parse.Error.ACCOUNT_ALREADY_LINKED,
    );
  });
});

describe('password reset', () => {
  /** The form fields and CSRF cookie of the reset page at `link`. */
  async function openResetPage(link) {
    const page = await fetch(link);
    const html = await page.text();
    return { status: page.status, html, cookie: page.headers.get('set-cookie') };
  }

  function field(html, name) {
    const match = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
    return match ? match[1] : null;
  }

  test('the mail links to a form that sets a new password and ends the sessions', async () => {
    const email = `${unique('reset')}@example.com`.toLowerCase();
    const { id, username, token } = await newUser('reset', { email });
    await Parse.User.requestPasswordReset(email);

    const mails = await eventually(
      async () => {
        const found = (await mailbox(email)).filter((m) => m.kind === 'passwordReset');
        return found.length ? found : null;
      },
      { what: 'the password reset mail' },
    );
    assert.equal(mails.length, 1);
    const [mail] = mails;
    assert.equal(mail.to, email);
    assert.ok(!Number.isNaN(new Date(mail.at).getTime()), `the mail's date: ${mail.at}`);
    const link = new URL(mail.link);
    assert.equal(link.origin, new URL(Parse.serverURL).origin);

    const page = await openResetPage(mail.link);
    assert.equal(page.status, 200, page.html);
    assert.match(page.html, /<form method="post">/);
    assert.match(page.html, /name="new_password"/);
    assert.match(page.html, /name="confirm_password"/);
    assert.equal(field(page.html, 'uid'), id);
    assert.ok(page.html.includes(username));

    const csrf = field(page.html, 'csrfmiddlewaretoken');
    assert.ok(csrf, 'the form carries a CSRF token');
    const newPassword = 'brand new secret';
    const submitted = await fetch(mail.link, {
      method: 'POST',
      headers: { cookie: page.cookie.split(';')[0], referer: mail.link },
      body: new URLSearchParams({
        csrfmiddlewaretoken: csrf,
        uid: field(page.html, 'uid'),
        token: field(page.html, 'token'),
        new_password: newPassword,
        confirm_password: newPassword,
      }),
    });
    const done = await submitted.text();
    assert.equal(submitted.status, 200, done);
    assert.match(done, /Your password was changed/);

    // a reset revokes the sessions; the new password works, the old one no longer
    assert.equal((await whoIsToken(token)).body.code, Parse.Error.INVALID_SESSION_TOKEN);
    const user = await Parse.User.logIn(username, newPassword);
    assert.equal(user.id, id);
    await rejectsWithCode(Parse.User.logIn(username, PASSWORD), Parse.Error.OBJECT_NOT_FOUND);
    // the link worked once
    const reused = await openResetPage(mail.link);
    assert.equal(reused.status, 400);
    assert.match(reused.html, /invalid or has expired/);
  });

  test('a reset without an email fails with 204', async () => {
    await rejectsWithCode(Parse.User.requestPasswordReset(''), Parse.Error.EMAIL_MISSING);
  });

  test('the mailbox is for the master key only', async () => {
    await rejectsWithCode(
      Parse.Cloud.run('mailbox', { email: 'x@example.com' }),
      Parse.Error.VALIDATION_ERROR,
      /Master key is required/,
    );
  });
});
