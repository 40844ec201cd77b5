package sftpd

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		in      string
		want    vpath
		wantErr error
	}{
		{"/", vpath{}, nil},
		{"", vpath{}, nil},
		{".", vpath{}, nil},
		{"/in", vpath{dir: "in"}, nil},
		{"in/", vpath{dir: "in"}, nil},
		{"/out/a.ack", vpath{"out", "a.ack"}, nil},
		{"/in/../out/x", vpath{"out", "x"}, nil},
		{"/../../in/x.csv", vpath{"in", "x.csv"}, nil},
		{"/in/.hidden", vpath{"in", ".hidden"}, nil},
		{"/in/café.csv", vpath{"in", "café.csv"}, nil},
		{"/in/" + strings.Repeat("a", 255), vpath{"in", strings.Repeat("a", 255)}, nil},
		{"/in/" + strings.Repeat("a", 256), vpath{}, errBadName},
		{"/in/a..b.csv", vpath{}, errBadName},
		{"/in/a\\b", vpath{}, errBadName},
		{"\\in\\x", vpath{}, errBadName},
		{"/in/a\x00b", vpath{}, errBadName},
		{"/in/a\nb", vpath{}, errBadName},
		{"/in/a\x7f", vpath{}, errBadName},
		{"/in/a\u0085b", vpath{}, errBadName},
		{"/in/a\xffb", vpath{}, errBadName},
		{"/in/" + InternalPrefix + "up-1", vpath{}, errNoSuchFile},
		{"/in/a/b", vpath{}, errNoSuchFile},
		{"/etc/passwd", vpath{}, errNoSuchFile},
		{"/IN/x", vpath{}, errNoSuchFile},
		{"/merchants/globex/out/x", vpath{}, errNoSuchFile},
	}
	for _, tc := range tests {
		got, err := parsePath(tc.in)
		if err != tc.wantErr || got != tc.want {
			t.Errorf("parsePath(%q) = %+v, %v; want %+v, %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

// FuzzParsePath checks that whatever a client sends, an accepted path is
// one of the virtual folders or a plain, safe name directly inside one.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/in/x.csv", "../out/a", "/in/..\\..\\x", "/out/\x00", "in/.fileapi-up-1", "/in/a/../../b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		v, err := parsePath(p)
		if err != nil {
			return
		}
		if v.dir != "" && v.dir != "in" && v.dir != "out" || v.dir == "" && v.name != "" {
			t.Fatalf("%q: bad folder %+v", p, v)
		}
		n := v.name
		if v.name == "" {
			return
		}
		if len(n) > 255 || strings.ContainsAny(n, "/\\") || strings.Contains(n, "..") || !utf8.ValidString(n) ||
			strings.HasPrefix(n, InternalPrefix) || strings.ContainsFunc(n, unicode.IsControl) {
			t.Fatalf("%q: unsafe name accepted: %q", p, n)
		}
	})
}
