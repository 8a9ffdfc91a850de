package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A jail.conf(5) parser: blocks, globals, "*", $variables, ${x} expansion, += lists,
// quoting, the three comment styles and .include.

// segment is a piece of a value: literal text, or a variable reference to expand later.
type segment struct {
	lit string
	ref string
}

type confValue []segment

type confStmt struct {
	name   string
	op     string // "" (bare), "=", "+="
	values []confValue
	file   string
	line   int
}

type confBlock struct {
	name  string
	stmts []confStmt
}

// JailConf is a parsed configuration: global statements and the jail blocks in file order.
type JailConf struct {
	Global []confStmt
	Blocks []*confBlock
}

type confErr struct{ msg string }

func (e confErr) Error() string { return e.msg }

type lexer struct {
	src  []rune
	pos  int
	line int
	file string
}

type token struct {
	kind   string // word, str, punct, eof
	val    confValue
	text   string
	line   int
	hasVar bool
}

func (l *lexer) errf(format string, a ...any) error {
	return confErr{fmt.Sprintf("%s line %d: ", l.file, l.line) + fmt.Sprintf(format, a...)}
}

func (l *lexer) skipSpace() error {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '\n':
			l.line++
			l.pos++
		case c == ' ' || c == '\t' || c == '\r':
			l.pos++
		case c == '#' || (c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '/'):
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '*':
			start := l.line
			l.pos += 2
			for {
				if l.pos+1 >= len(l.src) {
					l.line = start
					return l.errf("unterminated comment")
				}
				if l.src[l.pos] == '\n' {
					l.line++
				}
				if l.src[l.pos] == '*' && l.src[l.pos+1] == '/' {
					l.pos += 2
					break
				}
				l.pos++
			}
		default:
			return nil
		}
	}
	return nil
}

func isWordRune(c rune) bool {
	if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
		return false
	}
	return !strings.ContainsRune("=,;{}\"'#", c)
}

func (l *lexer) escape(sb *strings.Builder) {
	// at a backslash
	l.pos++
	if l.pos >= len(l.src) {
		return
	}
	c := l.src[l.pos]
	l.pos++
	switch c {
	case 'n':
		sb.WriteRune('\n')
	case 't':
		sb.WriteRune('\t')
	case 'a':
		sb.WriteRune('\a')
	case 'b':
		sb.WriteRune('\b')
	case 'f':
		sb.WriteRune('\f')
	case 'r':
		sb.WriteRune('\r')
	case 'v':
		sb.WriteRune('\v')
	case '\n':
		l.line++
	case 'x':
		n := 0
		for k := 0; k < 2 && l.pos < len(l.src) && strings.ContainsRune("0123456789abcdefABCDEF", l.src[l.pos]); k++ {
			d, _ := strconv.ParseInt(string(l.src[l.pos]), 16, 32)
			n = n*16 + int(d)
			l.pos++
		}
		sb.WriteRune(rune(n))
	default:
		if c >= '0' && c <= '7' {
			n := int(c - '0')
			for k := 0; k < 2 && l.pos < len(l.src) && l.src[l.pos] >= '0' && l.src[l.pos] <= '7'; k++ {
				n = n*8 + int(l.src[l.pos]-'0')
				l.pos++
			}
			sb.WriteRune(rune(n))
		} else {
			sb.WriteRune(c)
		}
	}
}

// readVar reads $name or ${name} at l.pos (which is at '$').
func (l *lexer) readVar() (string, error) {
	l.pos++
	if l.pos < len(l.src) && l.src[l.pos] == '{' {
		end := l.pos + 1
		for end < len(l.src) && l.src[end] != '}' && l.src[end] != '\n' {
			end++
		}
		if end >= len(l.src) || l.src[end] != '}' {
			return "", l.errf("unterminated variable")
		}
		name := string(l.src[l.pos+1 : end])
		l.pos = end + 1
		return name, nil
	}
	start := l.pos
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			l.pos++
			continue
		}
		break
	}
	return string(l.src[start:l.pos]), nil
}

func (l *lexer) next() (token, error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	if l.pos >= len(l.src) {
		return token{kind: "eof", line: l.line}, nil
	}
	c := l.src[l.pos]
	line := l.line
	if c == '+' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '=' {
		l.pos += 2
		return token{kind: "punct", text: "+=", line: line}, nil
	}
	if strings.ContainsRune("=,;{}", c) {
		l.pos++
		return token{kind: "punct", text: string(c), line: line}, nil
	}
	var val confValue
	var sb strings.Builder
	var raw strings.Builder
	hasVar := false
	flush := func() {
		if sb.Len() > 0 {
			val = append(val, segment{lit: sb.String()})
			sb.Reset()
		}
	}
	kind := "word"
	for l.pos < len(l.src) {
		c = l.src[l.pos]
		if c == '"' {
			kind = "str"
			l.pos++
			for {
				if l.pos >= len(l.src) {
					l.line = line
					return token{}, l.errf("unterminated string")
				}
				c = l.src[l.pos]
				if c == '"' {
					l.pos++
					break
				}
				if c == '\\' {
					l.escape(&sb)
					continue
				}
				if c == '$' {
					name, err := l.readVar()
					if err != nil {
						return token{}, err
					}
					flush()
					val = append(val, segment{ref: name})
					hasVar = true
					continue
				}
				if c == '\n' {
					l.line++
				}
				sb.WriteRune(c)
				raw.WriteRune(c)
				l.pos++
			}
			continue
		}
		if c == '\'' {
			kind = "str"
			l.pos++
			for {
				if l.pos >= len(l.src) {
					l.line = line
					return token{}, l.errf("unterminated string")
				}
				c = l.src[l.pos]
				l.pos++
				if c == '\'' {
					break
				}
				if c == '\n' {
					l.line++
				}
				sb.WriteRune(c)
			}
			continue
		}
		if c == '+' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '=' {
			break
		}
		if !isWordRune(c) {
			break
		}
		if c == '\\' {
			l.escape(&sb)
			continue
		}
		if c == '$' {
			name, err := l.readVar()
			if err != nil {
				return token{}, err
			}
			flush()
			val = append(val, segment{ref: name})
			raw.WriteString("$" + name)
			hasVar = true
			continue
		}
		sb.WriteRune(c)
		raw.WriteRune(c)
		l.pos++
	}
	flush()
	text := ""
	for _, s := range val {
		if s.ref != "" {
			text += "$" + s.ref
		} else {
			text += s.lit
		}
	}
	return token{kind: kind, val: val, text: text, line: line, hasVar: hasVar}, nil
}

// parseJailConf reads a file (and its includes).
func parseJailConf(file string) (*JailConf, error) {
	conf := &JailConf{}
	if err := parseInto(conf, file, 0); err != nil {
		return nil, err
	}
	return conf, nil
}

func parseInto(conf *JailConf, file string, depth int) error {
	if depth > 32 {
		return confErr{"maximum include depth exceeded"}
	}
	b, err := os.ReadFile(hostPath(file))
	if err != nil {
		return confErr{fmt.Sprintf("%s: %s", file, errnoText(err))}
	}
	return parseSource(conf, file, string(b), depth)
}

func parseSource(conf *JailConf, file, src string, depth int) error {
	l := &lexer{src: []rune(src), line: 1, file: file}
	var block *confBlock
	for {
		t, err := l.next()
		if err != nil {
			return err
		}
		if t.kind == "eof" {
			if block != nil {
				return confErr{file + ": unexpected EOF"}
			}
			return nil
		}
		if t.kind == "punct" {
			if t.text == "}" && block != nil {
				block = nil
				continue
			}
			if t.text == ";" {
				continue
			}
			return l.errf("%s: syntax error", t.text)
		}
		name := t.text
		if t.kind == "word" && t.hasVar && len(t.val) == 1 && t.val[0].ref != "" {
			name = "$" + t.val[0].ref
		}
		op, err := l.next()
		if err != nil {
			return err
		}
		if name == ".include" {
			if op.kind == "eof" || op.kind == "punct" {
				return l.errf("%s: syntax error", op.text)
			}
			if op.hasVar {
				return confErr{fmt.Sprintf("%s line %d: variables not permitted in '.include' filename", file, op.line)}
			}
			semi, err := l.next()
			if err != nil {
				return err
			}
			if semi.text != ";" {
				return l.errf("%s: syntax error", semi.text)
			}
			pattern := op.text
			if !strings.HasPrefix(pattern, "/") {
				pattern = filepath.Join(filepath.Dir(file), pattern)
			}
			if strings.ContainsAny(pattern, "*?[") {
				matches, _ := filepath.Glob(hostPath(pattern))
				for _, m := range matches {
					rel := "/" + strings.TrimPrefix(strings.TrimPrefix(m, simRoot()), "/")
					if err := parseInto(conf, rel, depth+1); err != nil {
						return err
					}
				}
			} else if err := parseInto(conf, pattern, depth+1); err != nil {
				return err
			}
			continue
		}
		switch {
		case op.kind == "punct" && op.text == "{":
			if block != nil {
				return l.errf("{: syntax error")
			}
			block = &confBlock{name: name}
			conf.Blocks = append(conf.Blocks, block)
			continue
		case op.kind == "punct" && op.text == ";":
			st := confStmt{name: name, file: file, line: t.line}
			appendStmt(conf, block, st)
			continue
		case op.kind == "punct" && (op.text == "=" || op.text == "+="):
			st := confStmt{name: name, op: op.text, file: file, line: t.line}
			for {
				v, err := l.next()
				if err != nil {
					return err
				}
				if v.kind == "eof" {
					return confErr{file + ": unexpected EOF"}
				}
				if v.kind == "punct" {
					return l.errf("%s: syntax error", v.text)
				}
				st.values = append(st.values, v.val)
				sep, err := l.next()
				if err != nil {
					return err
				}
				if sep.text == "," {
					continue
				}
				if sep.text == ";" {
					break
				}
				if sep.kind == "eof" {
					return confErr{file + ": unexpected EOF"}
				}
				return l.errf("%s: syntax error", sep.text)
			}
			appendStmt(conf, block, st)
		case op.kind == "eof":
			return confErr{file + ": unexpected EOF"}
		default:
			return l.errf("%s: syntax error", op.text)
		}
	}
}

func appendStmt(conf *JailConf, block *confBlock, st confStmt) {
	if block == nil {
		conf.Global = append(conf.Global, st)
	} else {
		block.stmts = append(block.stmts, st)
	}
}

// JailNames returns the names of the jails the file defines, in order.
func (c *JailConf) JailNames() []string {
	var out []string
	seen := map[string]bool{}
	for _, b := range c.Blocks {
		if b.name == "*" || strings.Contains(b.name, "*") || seen[b.name] {
			continue
		}
		seen[b.name] = true
		out = append(out, b.name)
	}
	return out
}

// listParams are the parameters whose values are lists.
func isListParam(name string) bool {
	return strings.HasPrefix(name, "exec.") && name != "exec.clean" && name != "exec.consolelog" && name != "exec.timeout" && name != "exec.fib" && name != "exec.jail_user" && name != "exec.system_user" && name != "exec.system_jail_user" ||
		name == "ip4.addr" || name == "ip6.addr" || name == "vnet.interface" || name == "zfs.dataset" || name == "mount" || name == "depend" || name == "$"
}

// Resolve computes one jail's parameters: globals and "*" first, then its block; then expands variables.
func (c *JailConf) Resolve(jail string) (map[string][]string, error) {
	var block *confBlock
	for _, b := range c.Blocks {
		if b.name == jail {
			block = b
		}
	}
	if block == nil {
		return nil, confErr{fmt.Sprintf("\"%s\" not found", jail)}
	}
	raw := map[string][]confValue{}
	bare := map[string]bool{}
	apply := func(st confStmt) error {
		name := st.name
		if name == "name" && st.op != "" {
			return confErr{fmt.Sprintf("%s: cannot redefine parameter \"name\".", jail)}
		}
		if st.op == "" {
			// bare boolean: "noX" on the last component means false
			parts := strings.Split(name, ".")
			last := parts[len(parts)-1]
			val := "true"
			if name == "vnet" {
				val = "new"
			} else if strings.HasPrefix(last, "no") && !strings.HasPrefix(name, "$") {
				parts[len(parts)-1] = strings.TrimPrefix(last, "no")
				name = strings.Join(parts, ".")
				val = "false"
			}
			raw[name] = []confValue{{{lit: val}}}
			bare[name] = true
			return nil
		}
		if st.op == "+=" {
			raw[name] = append(raw[name], st.values...)
		} else {
			raw[name] = append([]confValue(nil), st.values...)
		}
		return nil
	}
	for _, st := range c.Global {
		if err := apply(st); err != nil {
			return nil, err
		}
	}
	for _, b := range c.Blocks {
		if b.name == "*" {
			for _, st := range b.stmts {
				if err := apply(st); err != nil {
					return nil, err
				}
			}
		}
	}
	raw["name"] = []confValue{{{lit: jail}}}
	for _, st := range block.stmts {
		if err := apply(st); err != nil {
			return nil, err
		}
	}
	out := map[string][]string{}
	var expand func(key string, stack []string) ([]string, error)
	expand = func(key string, stack []string) ([]string, error) {
		if v, ok := out[key]; ok {
			return v, nil
		}
		for _, s := range stack {
			if s == key {
				return nil, confErr{fmt.Sprintf("%s: %s: variable loop", jail, key)}
			}
		}
		vals, ok := raw[key]
		if !ok {
			return nil, confErr{fmt.Sprintf("%s: variable \"%s\" not found", jail, strings.TrimPrefix(key, "$"))}
		}
		var res []string
	values:
		for _, v := range vals {
			var sb strings.Builder
			for _, seg := range v {
				if seg.ref == "" {
					sb.WriteString(seg.lit)
					continue
				}
				ref := seg.ref
				rk := ref
				if _, ok := raw["$"+ref]; ok {
					rk = "$" + ref
				}
				sub, err := expand(rk, append(stack, key))
				if err != nil {
					return nil, err
				}
				if len(sub) > 1 {
					if len(v) == 1 {
						res = append(res, sub...)
						continue values
					}
					return nil, confErr{fmt.Sprintf("%s: %s: array cannot be substituted inline", jail, key)}
				}
				if len(sub) == 1 {
					sb.WriteString(sub[0])
				}
			}
			res = append(res, sb.String())
		}
		out[key] = res
		return res, nil
	}
	params := map[string][]string{}
	for k := range raw {
		v, err := expand(k, nil)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(k, "$") {
			params[k] = v
		}
	}
	for k, v := range params {
		if b, ok := boolParamNames[k]; ok && b {
			if len(v) != 1 || !validBool(v[0]) {
				return nil, confErr{fmt.Sprintf("%s: %s: unknown boolean value \"%s\"", jail, k, strings.Join(v, ","))}
			}
		}
		if intParamNames[k] {
			if _, err := strconv.Atoi(strings.Join(v, "")); err != nil {
				return nil, confErr{fmt.Sprintf("%s: %s: non-integer value \"%s\"", jail, k, strings.Join(v, ","))}
			}
		}
	}
	return params, nil
}

var boolParamNames = map[string]bool{"persist": true, "mount.devfs": true, "mount.fdescfs": true, "mount.procfs": true, "exec.clean": true, "allow.mount": true, "allow.mount.zfs": true, "allow.raw_sockets": true, "allow.vmm": true, "allow.mount.devfs": true, "allow.mount.nullfs": true, "allow.mount.tmpfs": true, "allow.set_hostname": true, "allow.sysvipc": true, "allow.chflags": true, "allow.socket_af": true, "allow.mlock": true, "allow.reserved_ports": true}
var intParamNames = map[string]bool{"jid": true, "devfs_ruleset": true, "enforce_statfs": true, "securelevel": true, "children.max": true, "stop.timeout": true, "exec.timeout": true}

func validBool(v string) bool {
	switch v {
	case "", "true", "false", "0":
		return true
	}
	if _, err := strconv.Atoi(v); err == nil {
		return true
	}
	return false
}

// paramBool reads a boolean jail parameter.
func paramBool(p map[string][]string, name string) bool {
	v, ok := p[name]
	if !ok || len(v) == 0 {
		return false
	}
	switch v[0] {
	case "", "true":
		return true
	case "false", "0":
		return false
	}
	n, err := strconv.Atoi(v[0])
	return err == nil && n != 0
}

func paramStr(p map[string][]string, name string) string {
	if v, ok := p[name]; ok && len(v) > 0 {
		return v[0]
	}
	return ""
}

func errnoText(err error) string {
	if os.IsNotExist(err) {
		return "No such file or directory"
	}
	if os.IsPermission(err) {
		return "Permission denied"
	}
	return err.Error()
}
