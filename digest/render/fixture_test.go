package render

import (
	"strings"
	"time"

	"github.com/seed-c50b6fda/herald/digest"
)

// msk is a fixed zone, so that the tests need no time zone database.
var msk = time.FixedZone("MSK", 3*60*60)

// nastyDigest is a digest whose feed text tries everything a renderer must
// survive: markup of every target, mentions, entities, emoji and
// astral-plane characters, right-to-left text, control characters and
// bidi overrides, dangerous URLs, and text longer than a message.
func nastyDigest() digest.Digest {
	at := func(day, hour, min int) time.Time { return time.Date(2024, 3, day, hour, min, 0, 0, time.UTC) }
	long := strings.Repeat("Emergency services said more victims were found in the rubble overnight; "+
		"officials & <b>witnesses</b> described \"chaos\" at the exits. ", 40) // about 5000 characters
	return digest.Digest{
		Title:    "Herald digest <morning> & \"news\"",
		Since:    at(22, 6, 0),
		Until:    at(23, 6, 0),
		Location: msk,
		Stories: []digest.DigestStory{
			{
				StoryID:  1,
				Headline: `Crocus City Hall attack: <b>"dozens" killed</b> & @everyone <@123> **bold** _it_ ~~s~~ ` + "`code`" + ` | > [link](x) 😀 𝕏 🇷🇺 👨‍👩‍👧`,
				URL:      "https://en.wikipedia.org/wiki/Crocus_(venue)_attack?a=1&b=<2>",
				Summary:  `Gunmen opened fire <@!456> <@&789> <#1011> @here. 1. not a list; - not an item; # not a heading; &copy; stays text.`,
				Time:     at(22, 17, 5),
				Sources: []digest.Source{
					{Name: "Reuters <wire>", URL: "https://www.reuters.com/world/europe/crocus-(live)"},
					{Name: "AP & Co", URL: "javascript:alert(1)"},
					{Name: "ТАСС", URL: "https://tass.ru/происшествия/20310001"},
					{Name: "الجزيرة", URL: "https://www.aljazeera.net/news/2024/3/22/@everyone"},
					{Name: "", URL: "https://www.ynet.co.il/news/article/abc"},
				},
				ArticleIDs: []int64{11, 12, 13, 14, 15},
			},
			{
				StoryID:    2,
				Headline:   "ישראל: עדכון \u202Eevil\u202C — تحديث عاجل \x1b[31mred\x1b[0m",
				URL:        "https://www.ynet.co.il/news/article/def",
				Summary:    "Second\tline\nof summary\r\nwith\u2028separators and a bell\a.",
				Time:       at(23, 2, 30),
				Sources:    []digest.Source{{Name: "ynet", URL: "https://www.ynet.co.il/news/article/def"}, {Name: "Al Jazeera", URL: "https://aljazeera.com/x"}, {Name: "BBC", URL: "https://bbc.co.uk/news/1"}},
				ArticleIDs: []int64{21, 22, 23},
				Developing: true,
				NewSources: 2,
			},
			{
				StoryID:    3,
				Headline:   strings.Repeat("A very long headline about the 2024 budget — ", 8) + "end",
				URL:        "http://example.org/budget",
				Summary:    long,
				Time:       at(22, 9, 0),
				Sources:    []digest.Source{{Name: "Example", URL: "http://example.org/budget"}},
				ArticleIDs: []int64{31},
			},
			{
				StoryID:    4,
				Headline:   "",
				ArticleIDs: []int64{41},
			},
			{
				StoryID:    5,
				Headline:   "# Heading - item + plus 1) x 12. y | a | b | ~~~ === ***",
				URL:        "ftp://example.org/file",
				Summary:    "1. Starts like a list",
				Time:       at(22, 23, 59),
				Sources:    []digest.Source{{Name: "@here team", URL: "https://example.com/a b"}},
				ArticleIDs: []int64{51, 52},
				Developing: true,
			},
		},
		More: 7,
		Notices: []string{
			"Feed https://broken.example/rss has failed 5 times since Fri 22 Mar 09:00 MSK: 503 <Service Unavailable>",
			"Feed \"Тест\" moved permanently",
		},
	}
}

// typicalDigest is what a reader sees on an ordinary morning.
func typicalDigest() digest.Digest {
	at := func(day, hour, min int) time.Time { return time.Date(2024, 3, day, hour, min, 0, 0, time.UTC) }
	return digest.Digest{
		Title:    "Morning news",
		Since:    at(22, 6, 0),
		Until:    at(23, 6, 0),
		Location: msk,
		Stories: []digest.DigestStory{
			{
				StoryID:  101,
				Headline: "Gunmen attack Crocus City Hall concert venue near Moscow",
				URL:      "https://www.reuters.com/world/europe/crocus-city-hall-attack",
				Summary:  "Gunmen opened fire on concert-goers at Crocus City Hall in Krasnogorsk before a fire engulfed the building. Officials said dozens were killed.",
				Time:     at(22, 17, 5),
				Sources: []digest.Source{
					{Name: "Reuters", URL: "https://www.reuters.com/world/europe/crocus-city-hall-attack"},
					{Name: "AP", URL: "https://apnews.com/article/russia-moscow-concert-hall-attack"},
					{Name: "BBC", URL: "https://www.bbc.com/news/world-europe-68636527"},
					{Name: "Meduza", URL: "https://meduza.io/en/news/2024/03/22/crocus"},
				},
				ArticleIDs: []int64{1, 2, 3, 4},
				Developing: true,
				NewSources: 2,
			},
			{
				StoryID:    102,
				Headline:   "Central bank holds key rate at 16%",
				URL:        "https://www.ft.com/content/rates",
				Summary:    "The central bank kept its key rate unchanged for a second meeting, citing persistent inflation.",
				Time:       at(22, 10, 30),
				Sources:    []digest.Source{{Name: "Financial Times", URL: "https://www.ft.com/content/rates"}},
				ArticleIDs: []int64{5},
			},
		},
		More:    3,
		Notices: []string{"Feed https://example.org/rss has failed 3 times in a row: 503 Service Unavailable"},
	}
}

// emptyDigest has no stories, only a notice.
func emptyDigest() digest.Digest {
	return digest.Digest{
		Since:   time.Date(2024, 3, 22, 6, 0, 0, 0, time.UTC),
		Until:   time.Date(2024, 3, 23, 6, 0, 0, 0, time.UTC),
		Notices: []string{"Feed https://broken.example/rss keeps failing"},
	}
}
