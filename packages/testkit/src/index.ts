// Shared test stand-ins: a real SMTP sink and a polling helper.
export { startSmtpSink, type ReceivedMail, type SmtpSink, type WaitForOptions } from './smtp-sink.js';
export { waitUntil, type WaitUntilOptions } from './wait.js';
export * from './kafka-broker.js';
export { signedPost, type SignedPostResult } from './twilio-callbacks.js';
export { twilioClientFor, type TwilioClientOptions } from './twilio-client.js';
export { startTwilioStandin, type RecordedRequest, type TwilioStandin, type TwilioStandinFailMode, type TwilioStandinOptions } from './twilio-standin.js';
export type { StandinCall } from './twilio-calls.js';
