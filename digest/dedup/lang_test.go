package dedup

import "testing"

func TestLanguageOf(t *testing.T) {
	tests := []struct {
		name, tag, text string
		want            int
	}{
		{"English prose", "", "The river burst its banks and the mayor said that the town was flooded.", langEnglish},
		{"English headline with a marker", "", "Quillon recalls bikes over battery fires and the risk to riders", langEnglish},
		{"English tag wins", "en-GB", "Zugunglück bei Lindau", langEnglish},
		{"other tag wins", "de", "The river burst its banks and the mayor said that the town was flooded.", langOther},
		{"tag with underscore", "EN_us", "Schiff", langEnglish},
		{"German prose", "", "Bei einem Zugunglück in der Nähe von Lindau sind am Freitagabend 17 Menschen verletzt worden, die Strecke bleibt gesperrt.", langOther},
		{"French prose", "", "Le maire a déclaré que la rivière avait débordé et que les habitants ont été évacués dans la nuit.", langOther},
		{"Russian", "", "В Твери в четверг загорелся склад бытовой техники.", langOther},
		{"Chinese", "", "杭州钱塘江上的新大桥今天上午正式通车。", langOther},
		{"no marker word", "", "Quake hits island off south Iran, five hurt", langOther},
		{"long headline, few markers but stop words", "", "Gunmen in vans seize gold bars from Brenvik bank vault in night raid", langEnglish},
		{"Dutch prose with an English marker", "", "De burgemeester zei dat de stad was overstroomd en dat de bewoners in de nacht zijn geevacueerd", langOther},
		{"empty", "", "", langOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tz tokenizer
			tz.tokenize(tc.text, fieldText, 0)
			if got := languageOf(tc.tag, &tz); got != tc.want {
				t.Errorf("languageOf(%q, %q) = %d, want %d", tc.tag, tc.text, got, tc.want)
			}
		})
	}
}

// English articles are stemmed and lose stop words; other languages keep
// their words as written.
func TestStemmingOnlyForEnglish(t *testing.T) {
	x := newExtractor()
	termsOf := func(d Doc) map[string]bool {
		_, tw := x.extract(&d, defaultWeighting, templateCheck{}, func(id uint64, kind byte, text string, b []byte) *termEntry {
			if b != nil {
				text = string(b)
			}
			return &termEntry{kind: kind, name: text}
		}, nil)
		out := map[string]bool{}
		for _, t := range tw {
			out[string(t.kind)+":"+t.e.name] = true
		}
		return out
	}
	en := termsOf(Doc{Text: "The crews were evacuating the flooded homes and the mayor was thanking them."})
	for _, want := range []string{"w:evacu", "w:flood", "w:home", "w:thank", "w:mayor"} {
		if !en[want] {
			t.Errorf("English article lacks term %s; has %v", want, en)
		}
	}
	for _, stop := range []string{"w:the", "w:were", "w:was", "w:and"} {
		if en[stop] {
			t.Errorf("English article keeps stop word %s", stop)
		}
	}
	// Text of another or an unknown language keeps its words as written,
	// but English function words still say nothing.
	short := termsOf(Doc{Text: "Read more on our website"})
	for _, stop := range []string{"w:more", "w:on", "w:our"} {
		if short[stop] {
			t.Errorf("short undetected text keeps English stop word %s; has %v", stop, short)
		}
	}
	if !short["w:read"] || !short["w:website"] {
		t.Errorf("short undetected text lacks its content words; has %v", short)
	}
	de := termsOf(Doc{Language: "de", Text: "Die Feuerwehr evakuierte die überfluteten Häuser"})
	for _, want := range []string{"w:die", "w:evakuierte", "w:überfluteten", "w:häuser"} {
		if !de[want] {
			t.Errorf("German article lacks term %s; has %v", want, de)
		}
	}
}
