// Shared test fixtures and stand-ins: verdicts, contact lists, a sample ticket view, a test clock, a real
// SMTP sink, a real Apache Kafka cluster and kcat as an outside client, the Twilio REST stand-in with the client pointed at it, and a polling helper.
export { TestClock } from './clock.js';
export { ALICE, BOB, TAM, contactList, type ContactListOverrides } from './contacts.js';
export { startKafkaCluster, type CreateTopicOptions, type KafkaCluster, type KafkaClusterOptions, type LogBatch } from './kafka-cluster.js';
export { produceLinesWithKcat, produceWithKcat, readWithKcat } from './kcat.js';
export { startSmtpSink, type ReceivedMail, type SmtpSink, type WaitForOptions } from './smtp-sink.js';
export { ticketView, type SampleTicketView, type TicketViewOverrides } from './ticket-view.js';
export { signedPost, type SignedPostResult } from './twilio-callbacks.js';
export { twilioClientFor, type TwilioClientOptions } from './twilio-client.js';
export { startTwilioStandin, type RecordedRequest, type TwilioStandin, type TwilioStandinFailMode, type TwilioStandinOptions } from './twilio-standin.js';
export type { StandinCall } from './twilio-calls.js';
export { inboundMessageParams, messageStatusParams, segmentsOf, MESSAGING_SERVICE_SENDER, type InboundMessageOptions, type StandinMessage } from './twilio-messages.js';
export { cleanBurst, spamBurst, verdict, verdictBurst, type VerdictOverrides } from './verdicts.js';
export { waitUntil, type WaitUntilOptions } from './wait.js';
