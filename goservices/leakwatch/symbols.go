package leakwatch

// Go prints an ancestor's frames one byte after their calls (runtime
// printAncestorTracebackFuncInfo has no pc-1, unlike every other traceback),
// so a call's line often reads as the line after it. The dump gives each
// frame's offset in its function; with the function's entry in this process
// (from the executable's pclntab), runtime.CallersFrames names the call's
// own line. Where the executable cannot be read (not ELF, gone), the
// printed lines stay.

import (
	"debug/elf"
	"debug/gosym"
	"os"
	"reflect"
	"runtime"
	"sync"
)

var entries struct {
	once sync.Once
	pc   map[string]uintptr // function name -> entry in this process
}

func entryOf(fn string) uintptr {
	entries.once.Do(func() { entries.pc = loadEntries() })
	return entries.pc[fn]
}

func loadEntries() map[string]uintptr {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	f, err := elf.Open(exe)
	if err != nil {
		return nil
	}
	defer f.Close()
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil {
		return nil
	}
	data, err := pcln.Data()
	if err != nil {
		return nil
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		return nil
	}
	// A position-independent executable runs at an offset from its file's
	// addresses: one function whose entry we know gives it.
	self := reflect.ValueOf(loadEntries).Pointer()
	known := tab.LookupFunc(runtime.FuncForPC(self).Name())
	if known == nil {
		return nil
	}
	shift := self - uintptr(known.Entry)
	out := make(map[string]uintptr, len(tab.Funcs))
	for _, fn := range tab.Funcs {
		out[fn.Name] = uintptr(fn.Entry) + shift
	}
	return out
}

// callSites re-reads an ancestor's frames at their calls. Go stored each
// frame as its call's pc + 1 and printed the innermost function there: for
// a call that was the last of its line, the next line, and for a call
// inside an inlined function, the caller at the line after the inlined
// body. Each printed frame names its function and its offset from the
// entry of the function it physically sits in; where that entry, taken to
// be the printed function's, reproduces what was printed, the frame at the
// call (one byte back) is the true one.
func callSites(frames []frame) []frame {
	out := make([]frame, len(frames))
	for i, f := range frames {
		out[i] = callSite(f)
	}
	return out
}

func callSite(f frame) frame {
	entry := entryOf(f.fn)
	if f.off == 0 || entry == 0 {
		return f
	}
	if at := innermost(entry + f.off); at.Function != f.fn || at.Line != f.line {
		return f // f.fn is inlined into another function: its entry is not the base
	}
	call := innermost(entry + f.off - 1)
	return frame{fn: call.Function, file: call.File, line: call.Line, off: f.off}
}

// innermost is the innermost (inlined) function at pc.
func innermost(pc uintptr) runtime.Frame {
	f, _ := runtime.CallersFrames([]uintptr{pc + 1}).Next() // CallersFrames looks one byte back
	return f
}
