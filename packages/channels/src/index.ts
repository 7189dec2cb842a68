// The notifier's channels: email (SMTP, console) and voice (console; Twilio lives beside it),
// each behind one small interface, and the words they send.
export * from './types.js';
export * from './email/view.js';
export { renderEmail, escapeHtml, type RenderedEmail } from './email/templates.js';
export { createSmtpEmailChannel, type SmtpEmailChannelOptions } from './email/smtp.js';
export { createConsoleEmailChannel } from './email/console.js';
export { callScript, voicemailScript, spokenTicketNumber, spokenDeadline } from './voice/script.js';
export { createConsoleVoiceChannel, type ConsoleVoiceChannelOptions } from './voice/console.js';
export * from './voice/twilio.js';
export * from './voice/twiml.js';
export { renderDigest, digestCallScript, type DigestEntry } from './email/digest.js';
export { smsText, smsReplyText } from './sms/text.js';
export { createConsoleSmsChannel } from './sms/console.js';
export { createTwilioSmsChannel, type TwilioSmsChannelOptions } from './sms/twilio.js';
