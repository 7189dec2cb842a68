// Shared test stand-ins: a real SMTP sink and a polling helper.
export { startSmtpSink, type ReceivedMail, type SmtpSink, type WaitForOptions } from './smtp-sink.js';
export { waitUntil, type WaitUntilOptions } from './wait.js';
export * from './kafka-broker.js';
export * from './twilio-standin.js';
