package digest

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Matcher applies a subscription's Filters to text.
type Matcher struct {
	include, exclude []term
}

// term is one filter entry: a word or phrase, or a regular expression.
type term struct {
	word string         // lower-case, when not a regexp
	re   *regexp.Regexp // case-insensitive
}

// maxFilterLen bounds one filter entry; RE2 is linear, but a huge pattern
// still costs memory on every digest.
const maxFilterLen = 200

// CompileFilter checks one filter entry: a word or phrase, or an RE2
// expression between slashes. Errors are EINVALID and say what is wrong.
func CompileFilter(entry string) error {
	_, err := compileTerm(entry)
	return err
}

func compileTerm(entry string) (term, error) {
	e := strings.TrimSpace(entry)
	switch {
	case e == "":
		return term{}, Errorf(EINVALID, "a filter needs a word or a /regular expression/")
	case len(e) > maxFilterLen:
		return term{}, Errorf(EINVALID, "a filter may be at most %d characters long", maxFilterLen)
	case len(e) >= 2 && strings.HasPrefix(e, "/") && strings.HasSuffix(e, "/"):
		re, err := regexp.Compile("(?i)" + e[1:len(e)-1])
		if err != nil {
			return term{}, Errorf(EINVALID, "%s is not a valid regular expression: %s", e, reError(err))
		}
		return term{re: re}, nil
	default:
		return term{word: strings.ToLower(e)}, nil
	}
}

// reError shortens regexp's message to what a user can act on.
func reError(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("%s in %q", se.Code, se.Expr)
	}
	return err.Error()
}

// NewMatcher compiles filters. Errors are EINVALID.
func NewMatcher(f Filters) (*Matcher, error) {
	m := &Matcher{}
	for _, e := range f.Include {
		t, err := compileTerm(e)
		if err != nil {
			return nil, err
		}
		m.include = append(m.include, t)
	}
	for _, e := range f.Exclude {
		t, err := compileTerm(e)
		if err != nil {
			return nil, err
		}
		m.exclude = append(m.exclude, t)
	}
	return m, nil
}

// Match reports whether text passes the filters: it matches no exclude
// entry, and at least one include entry when there are any. When it fails,
// reason names the entry that decided.
func (m *Matcher) Match(text string) (ok bool, reason string) {
	lower := strings.ToLower(text)
	for _, t := range m.exclude {
		if t.matches(text, lower) {
			return false, "excluded by " + t.String()
		}
	}
	if len(m.include) == 0 {
		return true, ""
	}
	for _, t := range m.include {
		if t.matches(text, lower) {
			return true, ""
		}
	}
	return false, "matches none of the include filters"
}

func (t term) String() string {
	if t.re != nil {
		return "/" + strings.TrimPrefix(t.re.String(), "(?i)") + "/"
	}
	return fmt.Sprintf("%q", t.word)
}

func (t term) matches(text, lower string) bool {
	if t.re != nil {
		return t.re.MatchString(text)
	}
	return containsWord(lower, t.word)
}

// containsWord reports whether word occurs in text as a whole word or
// phrase: not inside a longer word ("art" does not match "party"). Both
// are lower-case. Unicode-aware, unlike RE2's ASCII-only \b.
func containsWord(text, word string) bool {
	for start := 0; ; {
		i := strings.Index(text[start:], word)
		if i < 0 {
			return false
		}
		i += start
		end := i + len(word)
		before, _ := utf8.DecodeLastRuneInString(text[:i])
		after, _ := utf8.DecodeRuneInString(text[end:])
		if (i == 0 || !isWordRune(before)) && (end == len(text) || !isWordRune(after)) {
			return true
		}
		_, size := utf8.DecodeRuneInString(text[i:])
		start = i + size
	}
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}
