// Package schedule owns when scheduled digests happen: reading the
// schedules users type in /schedule (Parse), the slots a schedule names in
// a subscription's time zone and how they survive daylight-saving changes
// (Slot, Slots, Next), and the Scheduler that runs every subscription's
// schedule with robfig/cron and hands each slot to a delivery function
// exactly once per process, catching up after downtime within a grace
// period.
//
// A slot is the local wall-clock time a schedule names ("08:00 in
// Europe/Berlin on 29 March"), not the instant cron fires. The caller makes
// (subscription, slot) the idempotency key of a scheduled digest, so that a
// restart, a duplicate firing or a retried delivery cannot post it twice.
//
// The package builds its digests through the Deliver function it is given;
// it knows neither the chat platforms nor the store. Time zones are
// loaded with time.LoadLocation; cmd/herald embeds time/tzdata so that
// they load on images without /usr/share/zoneinfo.
package schedule
