// Package pgtest starts a real, throw-away PostgreSQL for a test: initdb into
// a temporary folder, postgres on 127.0.0.1 on a free port, no unix socket,
// fsync off; stopped (fast shutdown) and removed when the test ends. As root
// (CI) it runs PostgreSQL as the unprivileged "postgres" user, which Debian's
// package creates: PostgreSQL refuses to run as root. Tests skip, with a
// message saying how to install it, only when the binaries are absent.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// BinDir finds Debian's PostgreSQL server binaries (the newest version), or
// a directory given in GATEWAYLAB_PG_BIN; "" when there are none.
func BinDir() string {
	if d := os.Getenv("GATEWAYLAB_PG_BIN"); d != "" {
		return d
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d
		}
	}
	return ""
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start returns the DSN of a fresh cluster (user gatewaylab, database
// postgres, trust auth on 127.0.0.1 only).
func Start(t testing.TB) string {
	t.Helper()
	bin := BinDir()
	if bin == "" {
		t.Skip("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): `apt-get install postgresql` or `make setup` as root")
	}
	dir, err := os.MkdirTemp("", "gatewaylab-pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cred := credential(t, dir)
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "gatewaylab", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	initdb.Env = []string{"LC_ALL=C", "PATH=/usr/bin:/bin"}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port := freePort(t)
	logf, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		t.Fatal(err)
	}
	pg := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off",
		"-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "shared_buffers=16MB",
		"-c", "max_connections=50")
	pg.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	pg.Env = initdb.Env
	pg.Stdout, pg.Stderr = logf, logf
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { pg.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		pg.Process.Signal(syscall.SIGINT) // fast shutdown: ends the sessions the test left open
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-pg.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	dsn := fmt.Sprintf("postgres://gatewaylab@127.0.0.1:%d/postgres?sslmode=disable", port)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return dsn
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			t.Fatalf("postgres exited: %s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres not ready after 20 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// credential: nil when not root; as root, the postgres user, which gets the folder.
func credential(t testing.TB, dir string) *syscall.Credential {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Skip("running as root and there is no postgres user to run PostgreSQL as (Debian's postgresql package creates it)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
