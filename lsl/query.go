package lsl

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A Query is a compiled stream-selection predicate. liblsl evaluates an
// XPath 1.0 expression with the stream's <info> element as the context
// node; this is the part of XPath such predicates are written in:
//
//   - relative paths of element names: name, type, desc/channels/channel/label, *, .
//   - string and number literals
//   - = != < <= > >= with XPath's rules for comparing node-sets, strings,
//     numbers and booleans; + - * div mod and unary minus
//   - and, or, parentheses
//   - not, true, false, boolean, string, number, count, starts-with,
//     contains, string-length, concat, normalize-space
//
// Anything else (absolute paths, //, attributes, axes, [predicates], |,
// variables, other functions) is refused with ErrQuerySyntax rather than
// silently mis-evaluated.
type Query struct {
	src  string
	root qnode
}

// ErrQuerySyntax marks a predicate that is malformed or uses XPath this
// package does not implement.
var ErrQuerySyntax = errors.New("lsl: query syntax")

// maxQueryLen bounds a predicate's length (queries arrive from the
// network) and maxQueryDepth its nesting.
const (
	maxQueryLen   = 64 << 10
	maxQueryDepth = 200
)

// ParseQuery compiles a predicate. The empty predicate matches every
// stream.
func ParseQuery(q string) (*Query, error) {
	if len(q) > maxQueryLen {
		return nil, fmt.Errorf("%w: predicate of %d bytes exceeds %d", ErrQuerySyntax, len(q), maxQueryLen)
	}
	if strings.TrimSpace(q) == "" {
		return &Query{src: q}, nil
	}
	toks, err := lexQuery(q)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrQuerySyntax, q, err)
	}
	p := &qparser{toks: toks}
	root, err := p.expr(0)
	if err == nil && p.peek().kind != tEOF {
		err = p.errorf("unexpected %s", p.peek())
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrQuerySyntax, q, err)
	}
	return &Query{src: q, root: root}, nil
}

// String returns the predicate's source text.
func (q *Query) String() string { return q.src }

// Matches evaluates the predicate on a stream's info document (its full
// description included, as liblsl does) and converts the result to a
// boolean.
func (q *Query) Matches(info *StreamInfo) bool {
	return q.MatchesElement(info.document(true))
}

// MatchesElement evaluates the predicate with doc (an <info> element) as
// the context node.
func (q *Query) MatchesElement(doc *Element) bool {
	if q.root == nil {
		return true
	}
	return q.root.eval(doc).boolean()
}

// --- lexer ---

type tkind int

const (
	tEOF tkind = iota
	tName
	tFunc // a name followed by '('
	tLiteral
	tNumber
	tOp // = != < <= > >= + - * div mod and or
	tLParen
	tRParen
	tComma
	tSlash
	tDot
)

type token struct {
	kind tkind
	text string
	num  float64
	pos  int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of predicate"
	case tLiteral:
		return fmt.Sprintf("literal %q at %d", t.text, t.pos)
	}
	return fmt.Sprintf("%q at %d", t.text, t.pos)
}

func isNameStart(r rune) bool {
	return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r >= 0x80
}

func isNameChar(r rune) bool {
	return isNameStart(r) || r == '-' || r == '.' || (r >= '0' && r <= '9')
}

func lexQuery(q string) ([]token, error) {
	l := qlexer{q: q}
	for l.i < len(q) {
		if err := l.next(); err != nil {
			return nil, err
		}
	}
	return append(l.toks, token{kind: tEOF, pos: len(q)}), nil
}

// qlexer splits a query into tokens, one token per call to next.
type qlexer struct {
	q    string
	i    int
	toks []token
}

// unsupported names the XPath constructs liblsl's queries may hold but
// stream-info predicates never need, by their first character.
var unsupported = map[byte]string{
	'@': "attributes",
	'[': "bracketed predicates",
	'|': "unions",
	'$': "variables",
}

func (l *qlexer) emit(kind tkind, text string, start int) {
	l.toks = append(l.toks, token{kind: kind, text: text, pos: start})
}

// operatorContext reports whether a '*' or an operator name at this point
// is an operator (XPath 1.0, section 3.7).
func (l *qlexer) operatorContext() bool {
	if len(l.toks) == 0 {
		return false
	}
	switch l.toks[len(l.toks)-1].kind {
	case tOp, tLParen, tComma, tSlash:
		return false
	}
	return true
}

func (l *qlexer) peek(off int) byte {
	if l.i+off < len(l.q) {
		return l.q[l.i+off]
	}
	return 0
}

func (l *qlexer) next() error {
	c, start := l.q[l.i], l.i
	switch {
	case isSpace(c):
		l.i++
	case c == '\'' || c == '"':
		end := strings.IndexByte(l.q[l.i+1:], c)
		if end < 0 {
			return fmt.Errorf("unterminated literal at %d", l.i)
		}
		l.emit(tLiteral, l.q[l.i+1:l.i+1+end], start)
		l.i += end + 2
	case isDigit(c) || (c == '.' && isDigit(l.peek(1))):
		l.number()
	case unsupported[c] != "":
		return fmt.Errorf("%s ('%c' at %d) are not supported", unsupported[c], c, l.i)
	case strings.IndexByte("(),/.=!<>+-*", c) >= 0:
		return l.punct(c, start)
	default:
		return l.name(start)
	}
	return nil
}

func (l *qlexer) number() {
	start := l.i
	for l.i < len(l.q) && isDigit(l.q[l.i]) {
		l.i++
	}
	if l.peek(0) == '.' {
		l.i++
		for l.i < len(l.q) && isDigit(l.q[l.i]) {
			l.i++
		}
	}
	n, _ := strconv.ParseFloat(l.q[start:l.i], 64)
	l.toks = append(l.toks, token{kind: tNumber, text: l.q[start:l.i], num: n, pos: start})
}

func (l *qlexer) punct(c byte, start int) error {
	l.i++
	switch c {
	case '(':
		l.emit(tLParen, "(", start)
	case ')':
		l.emit(tRParen, ")", start)
	case ',':
		l.emit(tComma, ",", start)
	case '/':
		if l.peek(0) == '/' {
			return fmt.Errorf("'//' (descendant paths) at %d is not supported", start)
		}
		if !l.operatorContext() {
			return fmt.Errorf("absolute path at %d is not supported (paths are relative to <info>)", start)
		}
		l.emit(tSlash, "/", start)
	case '.':
		if l.peek(0) == '.' {
			return fmt.Errorf("'..' at %d is not supported", start)
		}
		l.emit(tDot, ".", start)
	case '!':
		if l.peek(0) != '=' {
			return fmt.Errorf("'!' without '=' at %d", start)
		}
		l.i++
		l.emit(tOp, "!=", start)
	case '<', '>':
		op := string(c)
		if l.peek(0) == '=' {
			op += "="
			l.i++
		}
		l.emit(tOp, op, start)
	case '*':
		if l.operatorContext() {
			l.emit(tOp, "*", start)
		} else {
			l.emit(tName, "*", start)
		}
	default: // '=', '+', '-'
		l.emit(tOp, string(c), start)
	}
	return nil
}

func (l *qlexer) name(start int) error {
	r, size := utf8.DecodeRuneInString(l.q[l.i:])
	if !isNameStart(r) {
		return fmt.Errorf("unexpected character %q at %d", r, l.i)
	}
	l.i += size
	for l.i < len(l.q) {
		r, size := utf8.DecodeRuneInString(l.q[l.i:])
		if !isNameChar(r) {
			break
		}
		l.i += size
	}
	name := l.q[start:l.i]
	if l.peek(0) == ':' && l.peek(1) == ':' {
		return fmt.Errorf("axes (%s:: at %d) are not supported", name, start)
	}
	if l.operatorContext() && (name == "and" || name == "or" || name == "div" || name == "mod") {
		l.emit(tOp, name, start)
		return nil
	}
	j := l.i
	for j < len(l.q) && isSpace(l.q[j]) {
		j++
	}
	if j < len(l.q) && l.q[j] == '(' {
		l.emit(tFunc, name, start)
	} else {
		l.emit(tName, name, start)
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// --- parser ---

type qparser struct {
	toks []token
	i    int
}

func (p *qparser) peek() token { return p.toks[p.i] }
func (p *qparser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *qparser) errorf(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}

// binary operator precedence levels, loosest first
var qlevels = [][]string{{"or"}, {"and"}, {"=", "!="}, {"<", "<=", ">", ">="}, {"+", "-"}, {"*", "div", "mod"}}

func (p *qparser) expr(depth int) (qnode, error) {
	if depth > maxQueryDepth {
		return nil, p.errorf("nested too deeply")
	}
	return p.level(0, depth)
}

func (p *qparser) level(l, depth int) (qnode, error) {
	if l == len(qlevels) {
		return p.unary(depth)
	}
	left, err := p.level(l+1, depth)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tOp || !contains(qlevels[l], t.text) {
			return left, nil
		}
		p.next()
		right, err := p.level(l+1, depth)
		if err != nil {
			return nil, err
		}
		left = &qbinary{op: t.text, l: left, r: right}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *qparser) unary(depth int) (qnode, error) {
	if t := p.peek(); t.kind == tOp && t.text == "-" {
		p.next()
		if depth > maxQueryDepth {
			return nil, p.errorf("nested too deeply")
		}
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &qneg{x: x}, nil
	}
	return p.primary(depth)
}

func (p *qparser) primary(depth int) (qnode, error) {
	t := p.next()
	switch t.kind {
	case tLiteral:
		return qconst{v: qvalue{kind: vString, s: t.text}}, nil
	case tNumber:
		return qconst{v: qvalue{kind: vNumber, n: t.num}}, nil
	case tLParen:
		x, err := p.expr(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.errorf("expected ')' instead of %s", c)
		}
		return x, nil
	case tFunc:
		return p.call(t, depth)
	case tName, tDot:
		steps := []string{t.text}
		for p.peek().kind == tSlash {
			p.next()
			s := p.next()
			if s.kind != tName && s.kind != tDot {
				return nil, p.errorf("expected an element name after '/' instead of %s", s)
			}
			steps = append(steps, s.text)
		}
		return qpath{steps: steps}, nil
	}
	return nil, p.errorf("unexpected %s", t)
}

// qfuncs lists the supported functions with their argument counts
// (max -1: any number).
var qfuncs = map[string]struct{ min, max int }{
	"not": {1, 1}, "true": {0, 0}, "false": {0, 0}, "boolean": {1, 1},
	"string": {0, 1}, "number": {0, 1}, "count": {1, 1},
	"starts-with": {2, 2}, "contains": {2, 2}, "string-length": {0, 1},
	"concat": {2, -1}, "normalize-space": {0, 1},
}

func (p *qparser) call(name token, depth int) (qnode, error) {
	arity, ok := qfuncs[name.text]
	if !ok {
		return nil, p.errorf("function %s() at %d is not supported", name.text, name.pos)
	}
	if t := p.next(); t.kind != tLParen {
		return nil, p.errorf("expected '(' after %s", name.text)
	}
	var args []qnode
	if p.peek().kind != tRParen {
		for {
			a, err := p.expr(depth + 1)
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
	}
	if t := p.next(); t.kind != tRParen {
		return nil, p.errorf("expected ')' to close %s( instead of %s", name.text, t)
	}
	if len(args) < arity.min || (arity.max >= 0 && len(args) > arity.max) {
		return nil, p.errorf("%s() takes %d..%d arguments, got %d", name.text, arity.min, arity.max, len(args))
	}
	if name.text == "count" {
		if _, ok := args[0].(qpath); !ok {
			return nil, p.errorf("count() needs a path")
		}
	}
	return &qcall{name: name.text, args: args}, nil
}

// --- evaluation ---

type vkind int

const (
	vNodes vkind = iota
	vString
	vNumber
	vBool
)

type qvalue struct {
	kind  vkind
	nodes []*Element
	s     string
	n     float64
	b     bool
}

func (v qvalue) boolean() bool {
	switch v.kind {
	case vNodes:
		return len(v.nodes) > 0
	case vString:
		return v.s != ""
	case vNumber:
		return v.n != 0 && !math.IsNaN(v.n)
	}
	return v.b
}

func (v qvalue) str() string {
	switch v.kind {
	case vNodes:
		if len(v.nodes) == 0 {
			return ""
		}
		return v.nodes[0].stringValue()
	case vString:
		return v.s
	case vNumber:
		return numberString(v.n)
	}
	if v.b {
		return "true"
	}
	return "false"
}

func (v qvalue) number() float64 {
	switch v.kind {
	case vNumber:
		return v.n
	case vBool:
		if v.b {
			return 1
		}
		return 0
	}
	return stringNumber(v.str())
}

// stringNumber converts like XPath's number(): optional white space, an
// optional minus, digits with an optional decimal point; else NaN.
func stringNumber(s string) float64 {
	s = strings.Trim(s, " \t\r\n")
	body := strings.TrimPrefix(s, "-")
	if body == "" || body == "." {
		return math.NaN()
	}
	dot := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '.' && !dot {
			dot = true
			continue
		}
		if c < '0' || c > '9' {
			return math.NaN()
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return n
}

func numberString(n float64) string {
	switch {
	case math.IsNaN(n):
		return "NaN"
	case math.IsInf(n, 1):
		return "Infinity"
	case math.IsInf(n, -1):
		return "-Infinity"
	case n == 0:
		return "0"
	}
	return strconv.FormatFloat(n, 'f', -1, 64)
}

type qnode interface {
	eval(ctx *Element) qvalue
}

type qconst struct{ v qvalue }

func (c qconst) eval(*Element) qvalue { return c.v }

type qpath struct{ steps []string }

func (p qpath) eval(ctx *Element) qvalue {
	nodes := []*Element{ctx}
	for _, step := range p.steps {
		var next []*Element
		for _, n := range nodes {
			switch step {
			case ".":
				next = append(next, n)
			case "*":
				next = append(next, n.Children...)
			default:
				for _, c := range n.Children {
					if c.Name == step {
						next = append(next, c)
					}
				}
			}
		}
		nodes = next
	}
	return qvalue{kind: vNodes, nodes: nodes}
}

type qneg struct{ x qnode }

func (n *qneg) eval(ctx *Element) qvalue {
	return qvalue{kind: vNumber, n: -n.x.eval(ctx).number()}
}

type qbinary struct {
	op   string
	l, r qnode
}

func (b *qbinary) eval(ctx *Element) qvalue {
	switch b.op {
	case "or":
		return qbool(b.l.eval(ctx).boolean() || b.r.eval(ctx).boolean())
	case "and":
		return qbool(b.l.eval(ctx).boolean() && b.r.eval(ctx).boolean())
	case "=", "!=", "<", "<=", ">", ">=":
		return qbool(compare(b.op, b.l.eval(ctx), b.r.eval(ctx)))
	}
	x, y := b.l.eval(ctx).number(), b.r.eval(ctx).number()
	var n float64
	switch b.op {
	case "+":
		n = x + y
	case "-":
		n = x - y
	case "*":
		n = x * y
	case "div":
		n = x / y
	case "mod":
		n = math.Mod(x, y)
	}
	return qvalue{kind: vNumber, n: n}
}

func qbool(b bool) qvalue { return qvalue{kind: vBool, b: b} }

// compare implements XPath 1.0's comparison rules (section 3.4).
func compare(op string, a, b qvalue) bool {
	if a.kind == vNodes || b.kind == vNodes {
		if a.kind == vNodes && b.kind == vNodes {
			for _, x := range a.nodes {
				xs := x.stringValue()
				for _, y := range b.nodes {
					if compareAtoms(op, qvalue{kind: vString, s: xs}, qvalue{kind: vString, s: y.stringValue()}) {
						return true
					}
				}
			}
			return false
		}
		if b.kind == vNodes {
			// Swap so the node-set is on the left, mirroring the operator.
			return compare(mirror(op), b, a)
		}
		if b.kind == vBool {
			return compareAtoms(op, qbool(a.boolean()), b)
		}
		for _, x := range a.nodes {
			xv := qvalue{kind: vString, s: x.stringValue()}
			if b.kind == vNumber {
				xv = qvalue{kind: vNumber, n: stringNumber(xv.s)}
			}
			if compareAtoms(op, xv, b) {
				return true
			}
		}
		return false
	}
	return compareAtoms(op, a, b)
}

func mirror(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}

func compareAtoms(op string, a, b qvalue) bool {
	if op == "=" || op == "!=" {
		var eq bool
		switch {
		case a.kind == vBool || b.kind == vBool:
			eq = a.boolean() == b.boolean()
		case a.kind == vNumber || b.kind == vNumber:
			eq = a.number() == b.number()
		default:
			eq = a.str() == b.str()
		}
		return eq == (op == "=")
	}
	x, y := a.number(), b.number()
	switch op {
	case "<":
		return x < y
	case "<=":
		return x <= y
	case ">":
		return x > y
	}
	return x >= y
}

type qcall struct {
	name string
	args []qnode
}

func (c *qcall) eval(ctx *Element) qvalue {
	arg := func(i int) qvalue {
		if i < len(c.args) {
			return c.args[i].eval(ctx)
		}
		return qvalue{kind: vNodes, nodes: []*Element{ctx}}
	}
	switch c.name {
	case "not":
		return qbool(!arg(0).boolean())
	case "true":
		return qbool(true)
	case "false":
		return qbool(false)
	case "boolean":
		return qbool(arg(0).boolean())
	case "string":
		return qvalue{kind: vString, s: arg(0).str()}
	case "number":
		return qvalue{kind: vNumber, n: arg(0).number()}
	case "count":
		return qvalue{kind: vNumber, n: float64(len(arg(0).nodes))}
	case "starts-with":
		return qbool(strings.HasPrefix(arg(0).str(), arg(1).str()))
	case "contains":
		return qbool(strings.Contains(arg(0).str(), arg(1).str()))
	case "string-length":
		return qvalue{kind: vNumber, n: float64(utf8.RuneCountInString(arg(0).str()))}
	case "concat":
		var b strings.Builder
		for i := range c.args {
			b.WriteString(arg(i).str())
		}
		return qvalue{kind: vString, s: b.String()}
	case "normalize-space":
		return qvalue{kind: vString, s: strings.Join(strings.Fields(arg(0).str()), " ")}
	}
	// Unreachable: the parser admits only the functions above.
	return qbool(false)
}
