package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/seed-c50b6fda/herald/digest"
)

// metrics are the numbers an operator watches, exposed on /metrics.
type metrics struct {
	reg *prometheus.Registry

	fetchSeconds   *prometheus.HistogramVec
	articles       prometheus.Counter
	digests        *prometheus.CounterVec
	messagesSent   *prometheus.CounterVec
	sendRetries    *prometheus.CounterVec
	rateLimited    *prometheus.CounterVec
	commandSeconds *prometheus.HistogramVec
	replicas       prometheus.Gauge
}

// newMetrics registers Herald's metrics. st answers the gauges read at
// scrape time (feeds by state, stories, outbox depth).
func newMetrics(st digest.Store) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.fetchSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "herald_fetch_duration_seconds", Help: "Time to fetch and parse one feed, by outcome.",
		Buckets: prometheus.ExponentialBuckets(0.05, 2, 10),
	}, []string{"outcome"})
	m.articles = prometheus.NewCounter(prometheus.CounterOpts{Name: "herald_articles_ingested_total", Help: "Articles stored for the first time."})
	m.digests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "herald_digests_enqueued_total", Help: "Scheduled digests built and put in the outbox."}, []string{"platform"})
	m.messagesSent = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "herald_messages_sent_total", Help: "Messages the platforms confirmed, by kind."}, []string{"platform", "kind"})
	m.sendRetries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "herald_send_retries_total", Help: "Failed send attempts that will be retried or given up."}, []string{"platform"})
	m.rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "herald_rate_limited_total", Help: "Sends the platform answered with 429."}, []string{"platform"})
	m.commandSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "herald_command_duration_seconds", Help: "Time to answer a chat command.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
	}, []string{"platform", "command"})
	m.replicas = prometheus.NewGauge(prometheus.GaugeOpts{Name: "herald_replicas", Help: "Herald daemons running on this database, as this one last counted them."})
	for _, c := range []prometheus.Collector{m.fetchSeconds, m.articles, m.digests, m.messagesSent, m.sendRetries, m.rateLimited, m.commandSeconds, m.replicas} {
		f(c)
	}
	f(&storeCollector{st: st})
	return m
}

// storeCollector reads gauges from the store at scrape time, so they are
// right even with several replicas writing.
type storeCollector struct{ st digest.Store }

var (
	feedsDesc   = prometheus.NewDesc("herald_feeds", "Feeds by state.", []string{"state"}, nil)
	storiesDesc = prometheus.NewDesc("herald_stories_recent", "Stories updated in the last 24 hours.", nil, nil)
	outboxDesc  = prometheus.NewDesc("herald_outbox_depth", "Messages waiting to be delivered, by platform.", []string{"platform"}, nil)
	failedDesc  = prometheus.NewDesc("herald_outbox_failed", "Messages given up on, by platform.", []string{"platform"}, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- feedsDesc
	ch <- storiesDesc
	ch <- outboxDesc
	ch <- failedDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if feeds, err := c.st.ListFeeds(ctx, digest.FeedFilter{}); err == nil {
		n := map[string]int{digest.FeedOK: 0, digest.FeedFailing: 0, digest.FeedNew: 0}
		for _, f := range feeds {
			n[f.Status()]++
		}
		for state, v := range n {
			ch <- prometheus.MustNewConstMetric(feedsDesc, prometheus.GaugeValue, float64(v), state)
		}
	}
	if stories, err := c.st.ListStories(ctx, digest.StoryFilter{UpdatedSince: time.Now().Add(-24 * time.Hour)}); err == nil {
		ch <- prometheus.MustNewConstMetric(storiesDesc, prometheus.GaugeValue, float64(len(stories)))
	}
	for desc, status := range map[*prometheus.Desc]string{outboxDesc: digest.OutboxPending, failedDesc: digest.OutboxFailed} {
		msgs, err := c.st.ListOutbox(ctx, digest.OutboxFilter{Status: status})
		if err != nil {
			continue
		}
		n := map[string]int{digest.PlatformTelegram: 0, digest.PlatformDiscord: 0}
		for _, m := range msgs {
			n[m.Platform]++
		}
		for p, v := range n {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(v), p)
		}
	}
}
