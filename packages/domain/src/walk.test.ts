// The contact walk of SPEC §6 and §8: who is called or emailed at the start, after each unanswered call,
// and when the list runs out; and who receives a notice sent to all contacts.
import t from 'tap';
import { afterCall, noticeRecipients, planFrom, startWalk, walkOrder } from './walk.js';
import type { PlannedAttempt, WalkContact } from './walk.js';

const person = (id: string, role: WalkContact['role'], reach: Partial<WalkContact>): WalkContact => ({
  id,
  name: id,
  phone: null,
  email: null,
  role,
  preferredChannel: null,
  timezone: null,
  ...reach,
});
const contact = (id: string, reach: Partial<WalkContact>) => person(id, 'contact', reach);
const tam = (id: string, reach: Partial<WalkContact>) => person(id, 'tam', reach);

const phoneAndEmail = (n: number) => ({ phone: `+1415555010${n}`, email: `c${n}@tenant.example` });
const phoneOnly = (n: number) => ({ phone: `+1415555010${n}` });
const emailOnly = (n: number) => ({ email: `c${n}@tenant.example` });

const call = (contactId: string, step: number): PlannedAttempt => ({ contactId, kind: 'call', channel: 'voice', step });
const followup = (contactId: string, step: number): PlannedAttempt => ({ contactId, kind: 'followup', channel: 'email', step });
const tamBriefing = (contactId: string): PlannedAttempt => ({ contactId, kind: 'tam_briefing', channel: 'email', step: 0 });
const tamCall = (contactId: string): PlannedAttempt => ({ contactId, kind: 'tam_call', channel: 'voice', step: 0 });

t.test('starting the walk', async (t) => {
  t.test('the walk starts by calling the first contact, and only that contact', async (t) => {
    const contacts = [contact('alice', phoneAndEmail(1)), contact('bob', phoneAndEmail(2))];
    t.same(startWalk(contacts), { attempts: [call('alice', 0)], position: 0, exhausted: false });
  });

  t.test('a TAM is briefed by email at the start, alongside the first call', async (t) => {
    const contacts = [contact('alice', phoneAndEmail(1)), tam('tina', phoneAndEmail(9))];
    t.same(startWalk(contacts).attempts, [tamBriefing('tina'), call('alice', 0)]);
  });

  t.test('a TAM who prefers email is only emailed, even with a phone on file', async (t) => {
    const contacts = [tam('tina', { ...phoneAndEmail(9), preferredChannel: 'email' }), contact('alice', phoneAndEmail(1))];
    t.same(startWalk(contacts).attempts, [tamBriefing('tina'), call('alice', 0)]);
  });

  t.test('a TAM who prefers the phone is emailed and called too', async (t) => {
    const contacts = [tam('tina', { ...phoneAndEmail(9), preferredChannel: 'phone' }), contact('alice', phoneAndEmail(1))];
    t.same(startWalk(contacts).attempts, [tamBriefing('tina'), tamCall('tina'), call('alice', 0)]);
  });

  t.test('a TAM without an email is called instead', async (t) => {
    const contacts = [tam('tina', phoneOnly(9)), contact('alice', phoneAndEmail(1))];
    t.same(startWalk(contacts).attempts, [tamCall('tina'), call('alice', 0)]);
  });

  t.test('every TAM listed is briefed', async (t) => {
    const contacts = [tam('tina', emailOnly(8)), tam('tom', { ...phoneAndEmail(9), preferredChannel: 'phone' }), contact('alice', phoneAndEmail(1))];
    t.same(startWalk(contacts).attempts, [tamBriefing('tina'), tamBriefing('tom'), tamCall('tom'), call('alice', 0)]);
  });

  t.test('TAMs are not walked: the walk calls the first contact and counts steps among contacts only', async (t) => {
    const contacts = [tam('tina', phoneAndEmail(9)), contact('alice', phoneAndEmail(1)), tam('tom', phoneAndEmail(8)), contact('bob', phoneAndEmail(2))];
    t.same(walkOrder(contacts).map((c) => c.id), ['alice', 'bob']);
    t.same(startWalk(contacts), { attempts: [tamBriefing('tina'), tamBriefing('tom'), call('alice', 0)], position: 0, exhausted: false });
    t.same(afterCall(contacts, 0), { attempts: [followup('alice', 0), call('bob', 1)], position: 1, exhausted: false });
    t.same(afterCall(contacts, 1), { attempts: [followup('bob', 1)], position: 2, exhausted: true }, 'the walk ends without calling a TAM');
  });

  t.test('email-only contacts ahead of the first phone get their follow-up at once and the walk moves on to the call', async (t) => {
    const contacts = [contact('alice', emailOnly(1)), contact('bob', emailOnly(2)), contact('carol', phoneAndEmail(3))];
    t.same(startWalk(contacts), { attempts: [followup('alice', 0), followup('bob', 1), call('carol', 2)], position: 2, exhausted: false });
  });

  t.test('a tenant without contacts has its walk exhausted at once', async (t) => {
    t.same(startWalk([]), { attempts: [], position: 0, exhausted: true });
  });

  t.test('a tenant with only a TAM: the TAM is briefed and the walk is exhausted at once', async (t) => {
    t.same(startWalk([tam('tina', emailOnly(9))]), { attempts: [tamBriefing('tina')], position: 0, exhausted: true });
  });

  t.test('a list of email-only contacts is emailed in full and exhausted at the start', async (t) => {
    const contacts = [contact('alice', emailOnly(1)), contact('bob', emailOnly(2))];
    t.same(startWalk(contacts), { attempts: [followup('alice', 0), followup('bob', 1)], position: 2, exhausted: true });
  });
});

t.test('after an unanswered call', async (t) => {
  t.test('the called contact gets the follow-up email, then the next contact is called', async (t) => {
    const contacts = [contact('alice', phoneAndEmail(1)), contact('bob', phoneAndEmail(2)), contact('carol', phoneAndEmail(3))];
    t.same(afterCall(contacts, 0), { attempts: [followup('alice', 0), call('bob', 1)], position: 1, exhausted: false });
    t.same(afterCall(contacts, 1), { attempts: [followup('bob', 1), call('carol', 2)], position: 2, exhausted: false });
  });

  t.test('a called contact without an email gets no follow-up; the walk goes straight on', async (t) => {
    const contacts = [contact('alice', phoneOnly(1)), contact('bob', phoneAndEmail(2))];
    t.same(afterCall(contacts, 0), { attempts: [call('bob', 1)], position: 1, exhausted: false });
  });

  t.test('email-only contacts between two calls are emailed on the way to the next call', async (t) => {
    const contacts = [contact('alice', phoneAndEmail(1)), contact('bob', emailOnly(2)), contact('carol', emailOnly(3)), contact('dave', phoneOnly(4))];
    t.same(afterCall(contacts, 0), { attempts: [followup('alice', 0), followup('bob', 1), followup('carol', 2), call('dave', 3)], position: 3, exhausted: false });
  });

  t.test('the walk is exhausted when the last contact was called', async (t) => {
    const contacts = [contact('alice', phoneAndEmail(1)), contact('bob', phoneAndEmail(2))];
    t.same(afterCall(contacts, 1), { attempts: [followup('bob', 1)], position: 2, exhausted: true });
  });

  t.test('the walk is exhausted when only email-only contacts follow the last call', async (t) => {
    const contacts = [contact('alice', phoneOnly(1)), contact('bob', emailOnly(2))];
    t.same(afterCall(contacts, 0), { attempts: [followup('bob', 1)], position: 2, exhausted: true });
  });

  t.test('a walk is planned the same way every time, so a retry after a crash plans the same attempts', async (t) => {
    const contacts = [contact('alice', phoneAndEmail(1)), contact('bob', emailOnly(2)), contact('carol', phoneAndEmail(3))];
    t.same(afterCall(contacts, 0), afterCall(contacts, 0));
    t.same(startWalk(contacts), startWalk(contacts));
  });
});

t.test('planning from a position', async (t) => {
  const contacts = [contact('alice', phoneAndEmail(1)), contact('bob', emailOnly(2)), contact('carol', phoneAndEmail(3))];

  t.test('a walk resumed at a position plans from that contact on', async (t) => {
    t.same(planFrom(contacts, 1), { attempts: [followup('bob', 1), call('carol', 2)], position: 2, exhausted: false });
    t.same(planFrom(contacts, 2), { attempts: [call('carol', 2)], position: 2, exhausted: false });
  });

  t.test('planning from the end of the list, or past it, is exhausted with nothing to do', async (t) => {
    t.same(planFrom(contacts, 3), { attempts: [], position: 3, exhausted: true });
    t.same(planFrom(contacts, 7), { attempts: [], position: 3, exhausted: true });
  });

  t.test('planning does not brief the TAM again', async (t) => {
    t.same(planFrom([tam('tina', phoneAndEmail(9)), ...contacts], 0).attempts, [call('alice', 0)]);
  });
});

t.test('a notice to all contacts goes to everyone with an email, TAMs included, in list order', async (t) => {
  const contacts = [contact('alice', phoneAndEmail(1)), contact('bob', phoneOnly(2)), tam('tina', emailOnly(9)), contact('carol', emailOnly(3)), tam('tom', phoneOnly(8))];
  t.same(noticeRecipients(contacts).map((c) => c.id), ['alice', 'tina', 'carol']);
  t.same(noticeRecipients([]), []);
});
