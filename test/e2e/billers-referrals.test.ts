import assert from 'node:assert/strict';
import { client } from '../helpers/http';
import { stack, type Stack } from '../helpers/services';
import { signUp, signupRequest } from '../helpers/users';

/** Referral codes at signup: every user gets one; a known code records the referrer. */
describe('referral codes at signup (e2e)', function () {
  this.timeout(60_000);
  let s: Stack;

  before(async function () {
    this.timeout(180_000);
    s = await stack();
  });

  const userRow = (id: string) => s.db('users').where({ id }).first('referral_code', 'referred_by');

  it('gives every new user a referral code of their own', async () => {
    const [a, b] = await Promise.all([signUp(s.baseUrl), signUp(s.baseUrl)]);
    const [rowA, rowB] = await Promise.all([userRow(a.user.id), userRow(b.user.id)]);
    assert.match(rowA.referral_code, /^[A-Z0-9]{6,12}$/);
    assert.notEqual(rowA.referral_code, rowB.referral_code);
  });

  it("records the referrer whose code the new user gave", async () => {
    const referrer = await signUp(s.baseUrl);
    const { referral_code: code } = await userRow(referrer.user.id);
    const referred = await signUp(s.baseUrl, { referralCode: code });
    assert.equal((await userRow(referred.user.id)).referred_by, referrer.user.id);
  });

  it('ignores a code that names nobody: the signup succeeds unreferred', async () => {
    const res = await client(s.baseUrl)('POST', '/v1/auth/signup', { body: signupRequest({ referralCode: 'NOSUCHCODE99' }) });
    assert.equal(res.status, 201);
    assert.equal((await userRow(res.body.id)).referred_by, null);
  });
});
