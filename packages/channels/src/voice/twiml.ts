// The TwiML our voice webhooks answer with (SPEC §8): the message inside a one-digit Gather, what a
// person hears after pressing 1, and the fallback when our server cannot answer.
import twilio from 'twilio';

const say = (r: InstanceType<typeof twilio.twiml.VoiceResponse>, text: string) => r.say({ language: 'en-US' }, text);

/** The call's message, asking for the digit 1; repeated twice, then a goodbye. */
export function gatherTwiml(o: { script: string; gatherUrl: string; repeatUrl: string | null }): string {
  const r = new twilio.twiml.VoiceResponse();
  const g = r.gather({ input: ['dtmf'], numDigits: 1, timeout: 8, action: o.gatherUrl, method: 'POST', actionOnEmptyResult: false });
  g.say({ language: 'en-US' }, o.script);
  if (o.repeatUrl) r.redirect({ method: 'POST' }, o.repeatUrl);
  else {
    say(r, 'We did not receive a key press. An email with the details follows. Goodbye.');
    r.hangup();
  }
  return r.toString();
}

export function sayAndHangUp(text: string): string {
  const r = new twilio.twiml.VoiceResponse();
  say(r, text);
  r.hangup();
  return r.toString();
}
