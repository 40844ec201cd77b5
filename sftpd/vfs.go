package sftpd

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"fileapi/audit"

	"github.com/pkg/sftp"
)

// Errors sent to clients. pkg/sftp sends the text verbatim and takes the
// status code from the wrapped fxerr, so texts are short, never name a
// host path, and carry the right code.
var (
	errNoSuchFile  = sftp.ErrSSHFxNoSuchFile
	errBadName     = fmt.Errorf("invalid file name: %w", sftp.ErrSSHFxPermissionDenied)
	errInNoRead    = fmt.Errorf("files in in/ cannot be read back: %w", sftp.ErrSSHFxPermissionDenied)
	errOutReadOnly = fmt.Errorf("out/ is read-only: %w", sftp.ErrSSHFxPermissionDenied)
	errUploadHere  = fmt.Errorf("upload files into in/: %w", sftp.ErrSSHFxPermissionDenied)
	errResume      = fmt.Errorf("resuming an upload is not supported, upload the whole file again: %w", sftp.ErrSSHFxPermissionDenied)
	errExists      = fmt.Errorf("file already exists: %w", sftp.ErrSSHFxFailure)
	errPickedUp    = fmt.Errorf("this file has been picked up; it leaves in/ once its .ack or .err is in out/: %w", sftp.ErrSSHFxPermissionDenied)
	errRenameHere  = fmt.Errorf("files can only be renamed inside in/: %w", sftp.ErrSSHFxPermissionDenied)
	errFolders     = fmt.Errorf("folders cannot be created or removed: %w", sftp.ErrSSHFxPermissionDenied)
	errIsDir       = fmt.Errorf("is a folder: %w", sftp.ErrSSHFxFailure)
	errNotDir      = fmt.Errorf("not a folder: %w", sftp.ErrSSHFxFailure)
	errShutdown    = fmt.Errorf("the server is shutting down, try again in a minute: %w", sftp.ErrSSHFxFailure)
	errNoSpace     = fmt.Errorf("no space left on the server: %w", sftp.ErrSSHFxFailure)
	errPickup      = fmt.Errorf("the file was received but could not be accepted, upload it again: %w", sftp.ErrSSHFxFailure)
)

// recentUploadsKept bounds, per connection, the uploads whose attributes
// are remembered for stat/setstat after batch has moved them away.
const recentUploadsKept = 100

// vpath is a parsed virtual path: dir is "" (the root), "in" or "out";
// name is "" for the folder itself.
type vpath struct{ dir, name string }

func (v vpath) String() string {
	if v.dir == "" {
		return "/"
	}
	if v.name == "" {
		return "/" + v.dir
	}
	return "/" + v.dir + "/" + v.name
}

// disk is the path inside the merchant's os.Root.
func (v vpath) disk() string { return v.dir + "/" + v.name }

// parsePath maps a request path onto the virtual tree, refusing anything
// that is not /, /in, /out or a valid name directly inside in/ or out/.
// Backslashes and control characters are refused before anything else, so
// that no later normalisation can turn them into separators.
func parsePath(p string) (vpath, error) {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return vpath{}, errBadName
		}
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	p = path.Clean(p)
	if p == "/" {
		return vpath{}, nil
	}
	parts := strings.Split(p[1:], "/")
	if parts[0] != "in" && parts[0] != "out" {
		return vpath{}, errNoSuchFile
	}
	v := vpath{dir: parts[0]}
	switch len(parts) {
	case 1:
		return v, nil
	case 2:
		v.name = parts[1]
	default:
		return vpath{}, errNoSuchFile
	}
	if len(v.name) > 255 || strings.Contains(v.name, "..") || !utf8.ValidString(v.name) {
		return vpath{}, errBadName
	}
	for _, r := range v.name {
		if unicode.IsControl(r) { // C1 controls; C0 and DEL were refused above
			return vpath{}, errBadName
		}
	}
	if strings.HasPrefix(v.name, InternalPrefix) {
		return vpath{}, errNoSuchFile // invisible, as if it did not exist
	}
	return v, nil
}

// isPickupName says whether a file of this name in in/ is handed to
// Pickup (SPEC §2: .csv or .xml, any case).
func isPickupName(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".csv" || ext == ".xml"
}

// handler is one SFTP session's view of its merchant's folders. It
// implements every pkg/sftp handler interface the request server uses.
type handler struct {
	s    *Server
	c    *conn
	root *os.Root
}

var (
	_ sftp.FileReader           = (*handler)(nil)
	_ sftp.OpenFileWriter       = (*handler)(nil)
	_ sftp.PosixRenameFileCmder = (*handler)(nil)
	_ sftp.LstatFileLister      = (*handler)(nil)
	_ sftp.RealPathFileLister   = (*handler)(nil)
)

// mapErr turns a host error into a client-safe one and logs the original
// when it is unexpected.
func (h *handler) mapErr(op string, v vpath, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return errNoSuchFile
	case errors.Is(err, fs.ErrExist):
		return errExists
	case errors.Is(err, fs.ErrPermission):
		return sftp.ErrSSHFxPermissionDenied
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		h.s.log.Error("disk full", "op", op, "merchant", h.c.merchant, "path", v.String(), "err", err)
		return errNoSpace
	}
	h.s.log.Error("file operation failed", "op", op, "merchant", h.c.merchant, "path", v.String(), "err", err)
	return sftp.ErrSSHFxFailure
}

func (h *handler) event(action string, v vpath) audit.Event {
	return audit.Event{Action: action, Merchant: h.c.merchant, Fingerprint: h.c.fingerprint, Source: h.c.source, Path: v.String()}
}

// maxOpenFiles bounds the files one connection may hold open at once, so
// that a client cannot exhaust the server's file descriptors. Clients
// transfer a handful of files in parallel at most.
const maxOpenFiles = 64

var errTooManyOpen = fmt.Errorf("too many files open on this connection (at most %d): %w", maxOpenFiles, sftp.ErrSSHFxFailure)

// beginTransfer counts an open file handle, refused once shutting down.
func (h *handler) beginTransfer() error {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	if h.s.shutdown {
		return errShutdown
	}
	if h.c.transfers.Load() >= maxOpenFiles {
		return errTooManyOpen
	}
	h.c.transfers.Add(1)
	return nil
}

func (c *conn) endTransfer() {
	c.lastDone.Store(time.Now().UnixNano())
	c.transfers.Add(-1)
}

// Fileread opens a file of out/ for download.
func (h *handler) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	v, err := parsePath(r.Filepath)
	if err != nil {
		return nil, err
	}
	switch {
	case v.name == "":
		return nil, errIsDir
	case v.dir == "in":
		return nil, errInNoRead
	}
	// Lstat first: only regular files are served (no symlink, and no FIFO
	// that would block the open).
	fi, err := h.root.Lstat(v.disk())
	if err != nil {
		return nil, h.mapErr("read", v, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, errNoSuchFile
	}
	if err := h.beginTransfer(); err != nil {
		return nil, err
	}
	f, err := h.root.OpenFile(v.disk(), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		h.c.transfers.Add(-1)
		return nil, h.mapErr("read", v, err)
	}
	return &download{h: h, v: v, f: f}, nil
}

// download serves ReadAt from the file and audits the transfer on close.
type download struct {
	h    *handler
	v    vpath
	f    *os.File
	mu   sync.Mutex
	n    int64
	once sync.Once
}

func (d *download) ReadAt(p []byte, off int64) (int, error) {
	n, err := d.f.ReadAt(p, off)
	d.mu.Lock()
	d.n += int64(n)
	d.mu.Unlock()
	if err != nil && err != io.EOF {
		return n, d.h.mapErr("read", d.v, err)
	}
	return n, err
}

func (d *download) Close() error {
	d.once.Do(func() {
		d.f.Close()
		d.h.c.endTransfer()
		d.mu.Lock()
		n := d.n
		d.mu.Unlock()
		d.h.s.metrics.downloadBytes.Add(float64(n))
		e := d.h.event("download", d.v)
		e.Bytes = n
		d.h.s.audit(e)
	})
	return nil
}

// Filewrite opens an upload into in/.
func (h *handler) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	return h.openUpload(r)
}

// OpenFile serves opens with READ and WRITE: allowed as an upload into
// in/, whose reads fail (nothing can be read back from in/).
func (h *handler) OpenFile(r *sftp.Request) (sftp.WriterAtReaderAt, error) {
	return h.openUpload(r)
}

func (h *handler) openUpload(r *sftp.Request) (*upload, error) {
	v, err := parsePath(r.Filepath)
	if err != nil {
		return nil, err
	}
	switch {
	case v.dir == "out":
		return nil, errOutReadOnly
	case v.dir == "" || v.name == "":
		return nil, errUploadHere
	}
	flags := r.Pflags()
	// Resume detection (PITFALLS 4/5): OpenSSH reput sends APPEND, WinSCP
	// opens the existing file without TRUNC. Uploads create or truncate.
	if flags.Append {
		return nil, errResume
	}
	if fi, err := h.root.Lstat(v.disk()); err == nil {
		if flags.Excl {
			return nil, errExists
		}
		if !flags.Trunc || !fi.Mode().IsRegular() {
			return nil, errResume
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, h.mapErr("upload", v, err)
	}
	if err := h.beginTransfer(); err != nil {
		return nil, err
	}
	tmp := "in/" + InternalPrefix + "up-" + randomHex(12)
	f, err := h.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		h.c.transfers.Add(-1)
		return nil, h.mapErr("upload", v, err)
	}
	u := &upload{h: h, v: v, f: f, tmp: tmp}
	h.c.recent.open(u)
	return u, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// upload is a file being written into in/ under a hidden temporary name.
// Writes arrive concurrently and out of order (os.File.WriteAt is safe for
// that). Close publishes it under its name, unless the transfer was cut.
type upload struct {
	h   *handler
	v   vpath
	f   *os.File
	tmp string

	mu          sync.Mutex
	size        int64
	written     int64 // writeback started up to here (see writeBehind)
	failed      error // a write failed (too large, disk full): refuse on close
	transferErr error // the connection dropped: discard
	once        sync.Once
	closeErr    error
}

func (u *upload) WriteAt(p []byte, off int64) (int, error) {
	u.mu.Lock()
	failed := u.failed
	u.mu.Unlock()
	if failed != nil {
		return 0, failed // the upload is lost: say so to every later write
	}
	max := u.h.s.cfg.MaxFileSize
	if off < 0 || off > max || int64(len(p)) > max-off {
		err := fmt.Errorf("file larger than the limit of %d bytes: %w", max, sftp.ErrSSHFxFailure)
		u.fail(err)
		return 0, err
	}
	n, err := u.f.WriteAt(p, off)
	if err != nil {
		err = u.h.mapErr("write", u.v, err)
		u.fail(err)
		return n, err
	}
	u.mu.Lock()
	u.size = max64(u.size, off+int64(n))
	var from, todo int64
	if u.size-u.written >= writeBehind {
		from, todo = u.written, u.size-u.written
		u.written = u.size
	}
	u.mu.Unlock()
	if todo > 0 {
		startWriteback(u.f, from, todo)
	}
	return n, nil
}

// writeBehind is how much of an upload may sit in the page cache before
// its writing to disk is started. Without it a large upload is written to
// disk only by the fsync at close, which then takes as long as the
// transfer (about 7 s for 1 GiB on the benchmark machine's disk) while the
// client waits for its CLOSE to be answered; with it the disk works during
// the transfer (docs/BENCHMARKS.md). Payment files smaller than this are
// unaffected.
const writeBehind = 8 << 20

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func (u *upload) fail(err error) {
	u.mu.Lock()
	if u.failed == nil {
		u.failed = err
		// Free the space now rather than at close.
		u.f.Truncate(0)
	}
	u.mu.Unlock()
}

// ReadAt refuses: in/ is write-only.
func (u *upload) ReadAt([]byte, int64) (int, error) { return 0, errInNoRead }

// TransferError is called by pkg/sftp, before Close, when the connection
// ended with the file still open: the upload is incomplete.
func (u *upload) TransferError(err error) {
	u.mu.Lock()
	u.transferErr = err
	u.mu.Unlock()
}

func (u *upload) Close() error {
	u.once.Do(func() { u.closeErr = u.finish() })
	return u.closeErr
}

func (u *upload) finish() error {
	h := u.h
	defer h.c.endTransfer()
	defer h.c.recent.closed(u)
	u.mu.Lock()
	failed, transferErr, size := u.failed, u.transferErr, u.size
	u.mu.Unlock()
	e := h.event("upload", u.v)

	discard := func(outcome, detail string) {
		u.f.Close()
		if err := h.root.Remove(u.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			h.s.log.Error("cannot remove partial upload", "merchant", h.c.merchant, "err", err)
		}
		h.s.metrics.uploads.WithLabelValues(outcome).Inc()
		e.Outcome, e.Detail, e.Bytes = outcome, detail, size
		h.s.audit(e)
	}
	if transferErr != nil {
		discard(outcomeAborted, "connection lost before the file was closed")
		return nil
	}
	if failed != nil {
		discard(outcomeRefused, strings.TrimSuffix(failed.Error(), ": failure"))
		return failed
	}
	// Durable before it is visible: Pickup may acknowledge it at once.
	err := u.f.Sync()
	if cerr := u.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// Replaces a waiting file of that name: last rename wins.
		err = h.root.Rename(u.tmp, u.v.disk())
	}
	if err != nil {
		err = h.mapErr("upload", u.v, err)
		discard(outcomeRefused, err.Error())
		return err
	}
	now := h.s.cfg.Now()
	if fi, err := h.root.Lstat(u.v.disk()); err == nil {
		size = fi.Size()
	}
	h.c.recent.put(fileInfo{name: u.v.name, size: size, mode: 0o640, mtime: now})
	h.s.metrics.uploads.WithLabelValues(outcomeComplete).Inc()
	h.s.metrics.uploadBytes.Add(float64(size))
	e.Outcome, e.Bytes, e.Time = outcomeComplete, size, now
	h.s.audit(e)
	if isPickupName(u.v.name) {
		return h.pickup(u.v)
	}
	return nil
}

// pickup hands a complete file to batch, synchronously: the client's
// CLOSE or RENAME is answered after it.
func (h *handler) pickup(v vpath) error {
	if h.s.cfg.Pickup == nil {
		return nil
	}
	e := h.event("pickup", v)
	err := h.s.cfg.Pickup.Pickup(h.c.merchant, v.name)
	if err != nil {
		h.s.log.Error("pick-up failed", "merchant", h.c.merchant, "name", v.name, "err", err)
		e.Outcome, e.Detail = "error", err.Error()
		h.s.audit(e)
		return errPickup
	}
	// A successful pick-up is audited by Pickup's implementation, which
	// knows the file ID.
	return nil
}

// Filecmd serves setstat, rename, remove, mkdir, rmdir, symlink and link.
func (h *handler) Filecmd(r *sftp.Request) error {
	switch r.Method {
	case "Setstat":
		// Accepted and ignored (PITFALLS 7): clients set times and modes
		// after an upload and report a failed upload if refused.
		_, err := parsePath(r.Filepath)
		return err
	case "Rename":
		return h.rename(r, false)
	case "Remove":
		return h.remove(r)
	case "Mkdir", "Rmdir":
		if _, err := parsePath(r.Filepath); err != nil {
			return err
		}
		return errFolders
	case "Symlink", "Link":
		return sftp.ErrSSHFxOpUnsupported
	}
	return sftp.ErrSSHFxOpUnsupported
}

// PosixRename is posix-rename@openssh.com: it replaces an existing target.
func (h *handler) PosixRename(r *sftp.Request) error { return h.rename(r, true) }

func (h *handler) rename(r *sftp.Request, replace bool) error {
	from, err := parsePath(r.Filepath)
	if err != nil {
		return err
	}
	to, err := parsePath(r.Target)
	if err != nil {
		return err
	}
	if from.dir != "in" || to.dir != "in" || from.name == "" || to.name == "" {
		if from.name == "" || to.name == "" {
			return errFolders
		}
		return errRenameHere
	}
	if isPickupName(from.name) {
		return errPickedUp
	}
	fi, err := h.root.Lstat(from.disk())
	if err != nil {
		return h.mapErr("rename", from, err)
	}
	if !fi.Mode().IsRegular() {
		return errNoSuchFile
	}
	if from.name == to.name {
		return nil
	}
	if !replace {
		// SFTPv3 RENAME does not overwrite (as OpenSSH's sftp-server).
		if _, err := h.root.Lstat(to.disk()); err == nil {
			return errExists
		}
	}
	if err := h.root.Rename(from.disk(), to.disk()); err != nil {
		return h.mapErr("rename", from, err)
	}
	e := h.event("rename", to)
	e.Detail = "from " + from.String()
	e.Bytes = fi.Size()
	h.s.audit(e)
	h.c.recent.remove(from.name)
	h.c.recent.put(fileInfo{name: to.name, size: fi.Size(), mode: 0o640, mtime: fi.ModTime()})
	if isPickupName(to.name) {
		return h.pickup(to)
	}
	return nil
}

func (h *handler) remove(r *sftp.Request) error {
	v, err := parsePath(r.Filepath)
	if err != nil {
		return err
	}
	if v.name == "" {
		return errFolders
	}
	if v.dir == "in" && isPickupName(v.name) {
		return errPickedUp
	}
	fi, err := h.root.Lstat(v.disk())
	if err != nil {
		return h.mapErr("remove", v, err)
	}
	if !fi.Mode().IsRegular() {
		return errNoSuchFile
	}
	if err := h.root.Remove(v.disk()); err != nil {
		return h.mapErr("remove", v, err)
	}
	h.c.recent.remove(v.name)
	e := h.event("remove", v)
	e.Bytes = fi.Size()
	h.s.audit(e)
	return nil
}

// Filelist serves List (directory listings) and Stat.
func (h *handler) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	v, err := parsePath(r.Filepath)
	if err != nil {
		return nil, err
	}
	switch r.Method {
	case "List":
		return h.list(v)
	case "Stat", "Lstat":
		fi, err := h.stat(v)
		if err != nil {
			return nil, err
		}
		return listerAt{fi}, nil
	}
	return nil, sftp.ErrSSHFxOpUnsupported // Readlink: there are no links
}

// Lstat is Stat: nothing in the virtual tree is a link.
func (h *handler) Lstat(r *sftp.Request) (sftp.ListerAt, error) {
	r.Method = "Lstat"
	return h.Filelist(r)
}

// RealPath resolves a path against the virtual root, never the disk.
func (h *handler) RealPath(p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return path.Clean(p), nil
}

func (h *handler) stat(v vpath) (os.FileInfo, error) {
	if v.name == "" {
		return dirInfo(v), nil
	}
	// pkg/sftp turns FSTAT on a handle into a STAT of its path: a file
	// this connection is uploading is described by the upload, whose
	// data is still under a hidden name.
	if v.dir == "in" {
		if u := h.c.recent.uploading(v.name); u != nil {
			u.mu.Lock()
			size := u.size
			u.mu.Unlock()
			return fileInfo{name: v.name, size: size, mode: 0o640, mtime: h.s.cfg.Now()}, nil
		}
	}
	fi, err := h.root.Lstat(v.disk())
	if err == nil && fi.Mode().IsRegular() {
		return fileInfo{name: v.name, size: fi.Size(), mode: 0o640, mtime: fi.ModTime()}, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, h.mapErr("stat", v, err)
	}
	// The upload may already have been picked up and moved away by batch:
	// answer with what this connection wrote (PITFALLS 8, SPEC §2).
	if v.dir == "in" {
		if fi, ok := h.c.recent.get(v.name); ok {
			return fi, nil
		}
	}
	return nil, errNoSuchFile
}

func dirInfo(v vpath) fileInfo {
	name := v.dir
	if name == "" {
		name = "/"
	}
	return fileInfo{name: name, mode: fs.ModeDir | 0o750}
}

func (h *handler) list(v vpath) (sftp.ListerAt, error) {
	if v.name != "" {
		if _, err := h.stat(v); err != nil {
			return nil, err
		}
		return nil, errNotDir
	}
	if v.dir == "" {
		return listerAt{dirInfo(vpath{dir: "in"}), dirInfo(vpath{dir: "out"})}, nil
	}
	d, err := h.root.Open(v.dir)
	if err != nil {
		return nil, h.mapErr("list", v, err)
	}
	defer d.Close()
	entries, err := d.ReadDir(-1) // directory order: sorted below
	if err != nil {
		return nil, h.mapErr("list", v, err)
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	var out listerAt
	for _, de := range entries {
		name := de.Name()
		if strings.HasPrefix(name, InternalPrefix) || !de.Type().IsRegular() {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, fileInfo{name: name, size: fi.Size(), mode: 0o640, mtime: fi.ModTime()})
	}
	return out, nil
}

// fileInfo is what clients see: no host owner, no host mode bits.
type fileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
}

func (f fileInfo) Name() string       { return f.name }
func (f fileInfo) Size() int64        { return f.size }
func (f fileInfo) Mode() fs.FileMode  { return f.mode }
func (f fileInfo) ModTime() time.Time { return f.mtime }
func (f fileInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fileInfo) Sys() any           { return nil }

type listerAt []os.FileInfo

func (l listerAt) ListAt(dst []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(dst, l[off:])
	if off+int64(n) >= int64(len(l)) {
		return n, io.EOF
	}
	return n, nil
}

// recentUploads remembers the attributes of the last files a connection
// uploaded into in/, so that stat and setstat right after close succeed
// even once batch has removed the file.
type recentUploads struct {
	mu         sync.Mutex
	max        int
	order      []string
	m          map[string]fileInfo
	inProgress map[string]*upload // uploads in progress, by name (latest opened)
}

func newRecentUploads(max int) *recentUploads {
	return &recentUploads{max: max, m: map[string]fileInfo{}, inProgress: map[string]*upload{}}
}

func (r *recentUploads) open(u *upload) {
	r.mu.Lock()
	r.inProgress[u.v.name] = u
	r.mu.Unlock()
}

func (r *recentUploads) closed(u *upload) {
	r.mu.Lock()
	if r.inProgress[u.v.name] == u {
		delete(r.inProgress, u.v.name)
	}
	r.mu.Unlock()
}

func (r *recentUploads) uploading(name string) *upload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inProgress[name]
}

func (r *recentUploads) put(fi fileInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.m[fi.name]; !ok {
		r.order = append(r.order, fi.name)
		if len(r.order) > r.max {
			delete(r.m, r.order[0])
			r.order = r.order[1:]
		}
	}
	r.m[fi.name] = fi
}

func (r *recentUploads) get(name string) (fileInfo, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fi, ok := r.m[name]
	return fi, ok
}

func (r *recentUploads) remove(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.m[name]; !ok {
		return
	}
	delete(r.m, name)
	for i, n := range r.order {
		if n == name {
			r.order = append(r.order[:i], r.order[i+1:]...)
			break
		}
	}
}
