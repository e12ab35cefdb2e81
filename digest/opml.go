package digest

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// OPML 2.0 document shapes (http://opml.org/spec2.opml), for feed lists.
type opmlDoc struct {
	XMLName xml.Name    `xml:"opml"`
	Version string      `xml:"version,attr"`
	Head    opmlHead    `xml:"head"`
	Body    opmlOutline `xml:"body"`
}

type opmlHead struct {
	Title       string `xml:"title,omitempty"`
	DateCreated string `xml:"dateCreated,omitempty"`
}

type opmlOutline struct {
	Text     string        `xml:"text,attr,omitempty"`
	Title    string        `xml:"title,attr,omitempty"`
	Type     string        `xml:"type,attr,omitempty"`
	XMLURL   string        `xml:"xmlUrl,attr,omitempty"`
	HTMLURL  string        `xml:"htmlUrl,attr,omitempty"`
	Outlines []opmlOutline `xml:"outline"`
}

// UnmarshalXML reads an outline accepting the attribute spellings found in
// the wild (xmlUrl, xmlURL, xmlurl; htmlUrl likewise): exporters differ.
func (o *opmlOutline) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	for _, a := range start.Attr {
		switch strings.ToLower(a.Name.Local) {
		case "text":
			o.Text = a.Value
		case "title":
			o.Title = a.Value
		case "type":
			o.Type = a.Value
		case "xmlurl":
			o.XMLURL = a.Value
		case "htmlurl":
			o.HTMLURL = a.Value
		}
	}
	var inner struct {
		Outlines []opmlOutline `xml:"outline"`
	}
	if err := d.DecodeElement(&inner, &start); err != nil {
		return err
	}
	o.Outlines = inner.Outlines
	return nil
}

// WriteOPML writes feeds as a valid OPML 2.0 subscription list.
func WriteOPML(w io.Writer, title string, feeds []*Feed, now time.Time) error {
	doc := opmlDoc{Version: "2.0", Head: opmlHead{Title: title, DateCreated: now.UTC().Format(time.RFC1123Z)}}
	for _, f := range feeds {
		doc.Body.Outlines = append(doc.Body.Outlines, opmlOutline{
			Text: f.DisplayName(), Title: f.Title, Type: "rss", XMLURL: f.URL, HTMLURL: f.SiteURL,
		})
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write OPML: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// OPMLFeed is one feed listed in an OPML document.
type OPMLFeed struct {
	URL   string
	Title string // the outline's text or title
}

// ParseOPML reads the feeds of an OPML document, at any nesting depth
// (folders are flattened). It returns EINVALID for a document that is not
// OPML.
func ParseOPML(r io.Reader) ([]OPMLFeed, error) {
	var doc opmlDoc
	dec := xml.NewDecoder(r)
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "us-ascii") {
			return in, nil
		}
		return nil, fmt.Errorf("encoding %q is not supported; save the file as UTF-8", label)
	}
	if err := dec.Decode(&doc); err != nil {
		return nil, Errorf(EINVALID, "not an OPML file: %v", err)
	}
	var out []OPMLFeed
	var walk func(o []opmlOutline)
	walk = func(os []opmlOutline) {
		for _, o := range os {
			if u := strings.TrimSpace(o.XMLURL); u != "" {
				t := o.Text
				if t == "" {
					t = o.Title
				}
				out = append(out, OPMLFeed{URL: u, Title: strings.TrimSpace(t)})
			}
			walk(o.Outlines)
		}
	}
	walk(doc.Body.Outlines)
	return out, nil
}
