package lsl

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Element is a node of a stream's XML description: a name, an optional
// text value and child elements. It is the form of <desc> (channel labels,
// units, manufacturer, anything a program adds) and of the whole info
// document that queries are evaluated on.
type Element struct {
	Name string
	// Text is the element's own text (the first non-blank text inside it,
	// as liblsl's child_value reads it).
	Text string
	// HasText distinguishes <a></a> (HasText, empty Text) from <a />, which
	// liblsl writes differently.
	HasText  bool
	Children []*Element
}

// Child returns the first child element with the given name, or nil.
func (e *Element) Child(name string) *Element {
	if e == nil {
		return nil
	}
	for _, c := range e.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// ChildText returns the text of the first child with the given name ("" if
// there is none).
func (e *Element) ChildText(name string) string {
	if c := e.Child(name); c != nil {
		return c.Text
	}
	return ""
}

// Append adds a child element and returns it, for building descriptions.
func (e *Element) Append(name string) *Element {
	c := &Element{Name: name}
	e.Children = append(e.Children, c)
	return c
}

// AppendValue adds a child element with a text value and returns e, so
// calls chain like liblsl's append_child_value.
func (e *Element) AppendValue(name, value string) *Element {
	e.Children = append(e.Children, &Element{Name: name, Text: value, HasText: true})
	return e
}

// Clone returns a deep copy.
func (e *Element) Clone() *Element {
	if e == nil {
		return nil
	}
	c := &Element{Name: e.Name, Text: e.Text, HasText: e.HasText}
	if len(e.Children) > 0 {
		c.Children = make([]*Element, len(e.Children))
		for i, ch := range e.Children {
			c.Children[i] = ch.Clone()
		}
	}
	return c
}

// stringValue is the XPath string-value: all text inside, in document
// order.
func (e *Element) stringValue() string {
	if len(e.Children) == 0 {
		return e.Text
	}
	var b strings.Builder
	e.appendStringValue(&b)
	return b.String()
}

func (e *Element) appendStringValue(b *strings.Builder) {
	b.WriteString(e.Text)
	for _, c := range e.Children {
		c.appendStringValue(b)
	}
}

// writeXML writes the document the way pugixml saves it with liblsl's
// settings (declaration, tab indentation, "<a />" for empty elements), so
// our messages are byte-identical to liblsl's for the same content.
func writeXMLDocument(b *bytes.Buffer, root *Element) {
	b.WriteString("<?xml version=\"1.0\"?>\n")
	writeElement(b, root, 0)
}

func writeElement(b *bytes.Buffer, e *Element, depth int) {
	for range depth {
		b.WriteByte('\t')
	}
	b.WriteByte('<')
	b.WriteString(e.Name)
	if !e.HasText && len(e.Children) == 0 {
		b.WriteString(" />\n")
		return
	}
	b.WriteByte('>')
	if e.HasText {
		escapeText(b, e.Text)
	}
	if len(e.Children) > 0 {
		// pugixml puts no newline between an element's text and its first
		// child element.
		if !e.HasText {
			b.WriteByte('\n')
		}
		for i, c := range e.Children {
			if i == 0 && e.HasText {
				var sub bytes.Buffer
				writeElement(&sub, c, depth+1)
				b.Write(bytes.TrimLeft(sub.Bytes(), "\t"))
				continue
			}
			writeElement(b, c, depth+1)
		}
		for range depth {
			b.WriteByte('\t')
		}
	}
	b.WriteString("</")
	b.WriteString(e.Name)
	b.WriteString(">\n")
}

// escapeText escapes text as pugixml does for element content: &, <, >
// and control characters other than tab, CR and LF.
func escapeText(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '&':
			b.WriteString("&amp;")
		case c == '<':
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		case c < 32 && c != '\t' && c != '\r' && c != '\n':
			fmt.Fprintf(b, "&#%d%d;", c/10, c%10)
		default:
			b.WriteByte(c)
		}
	}
}

// Limits on a received XML document, so a hostile peer cannot make the
// parser use unbounded memory or recursion.
const (
	maxXMLBytes    = 16 << 20
	maxXMLDepth    = 64
	maxXMLElements = 1 << 20
)

var errXML = errors.New("malformed stream-info XML")

// parseXMLDocument parses an XML document into its root element.
func parseXMLDocument(data []byte) (*Element, error) {
	if len(data) > maxXMLBytes {
		return nil, fmt.Errorf("%w: %d bytes exceeds the %d-byte limit", errXML, len(data), maxXMLBytes)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var (
		stack    []*Element
		root     *Element
		elements int
	)
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errXML, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			if elements > maxXMLElements {
				return nil, fmt.Errorf("%w: more than %d elements", errXML, maxXMLElements)
			}
			if len(stack) >= maxXMLDepth {
				return nil, fmt.Errorf("%w: nested deeper than %d", errXML, maxXMLDepth)
			}
			name := t.Name.Local
			if t.Name.Space != "" {
				name = t.Name.Space + ":" + name
			}
			el := &Element{Name: name}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("%w: more than one root element", errXML)
				}
				root = el
			} else {
				parent := stack[len(stack)-1]
				parent.Children = append(parent.Children, el)
			}
			stack = append(stack, el)
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, fmt.Errorf("%w: unexpected </%s>", errXML, t.Name.Local)
			}
			top := stack[len(stack)-1]
			name := t.Name.Local
			if t.Name.Space != "" {
				name = t.Name.Space + ":" + name
			}
			if name != top.Name {
				return nil, fmt.Errorf("%w: </%s> closes <%s>", errXML, name, top.Name)
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) != 0 {
					return nil, fmt.Errorf("%w: text outside the root element", errXML)
				}
				continue
			}
			top := stack[len(stack)-1]
			// pugixml drops blank text and child_value reads the first
			// text node: keep that one.
			if len(bytes.TrimSpace(t)) == 0 {
				continue
			}
			if !top.HasText || top.Text == "" {
				top.Text = string(t)
				top.HasText = true
			}
		}
	}
	if len(stack) != 0 {
		return nil, fmt.Errorf("%w: <%s> is not closed", errXML, stack[len(stack)-1].Name)
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no root element", errXML)
	}
	return root, nil
}
