# make install / make uninstall [PREFIX=/usr/local] [DESTDIR=]: the
# programs; libpnm as libpnm.a and libpnm.so (which carries its own
# dependencies, so -lpnm suffices); the headers as <pnm/...>; pnm.pc for
# pkg-config; the man pages; bash completion; and every models/*.pnm into
# PREFIX/share/pnm. `make` builds everything installed, so that
# `make && sudo make install` compiles nothing as root. DESTDIR stages the
# files elsewhere (for packages) without changing the paths in pnm.pc.
PREFIX        ?= /usr/local
bindir        ?= $(PREFIX)/bin
libdir        ?= $(PREFIX)/lib
includedir    ?= $(PREFIX)/include
datadir       ?= $(PREFIX)/share
mandir        ?= $(datadir)/man
pkgconfigdir  ?= $(libdir)/pkgconfig
completiondir ?= $(datadir)/bash-completion/completions
INSTALL       ?= install

PNM_VERSION := $(shell sed -n 's/^\#define PNM_VERSION "\(.*\)"$$/\1/p' lib/pnm.h)
SONAME   = libpnm.so.$(firstword $(subst ., ,$(PNM_VERSION)))
HEADERS  = $(wildcard lib/*.h)
MODELS   = $(wildcard models/*.pnm)
MAN1     = $(wildcard man/man1/*.1)
MAN3     = $(wildcard man/man3/*.3)
MAN5     = $(wildcard man/man5/*.5)
# PAGE:NAME for every other name on the NAME line of a man3 page: each gets
# a one-line page (.so) so that `man NAME` finds PAGE.
MAN3_ALIASES := $(foreach p,$(MAN3),$(patsubst %,$(basename $(notdir $p)):%,$(filter-out \
    $(basename $(notdir $p)),$(shell awk '/^\.SH/ { f = $$2 == "NAME"; next } f' $p | sed 's/\\-.*//; s/,/ /g'))))
PROGRAM_NAMES = $(notdir $(PROGRAMS))

all: $(BUILD)/libpnm.so

$(BUILD)/libpnm.so: $(LIB_OBJ)
	$(CXX) $(LDFLAGS) -shared -Wl,-soname,$(SONAME) -o $@ $^ $(LDLIBS)

install: all
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(libdir) $(DESTDIR)$(pkgconfigdir) \
	    $(DESTDIR)$(includedir)/pnm $(DESTDIR)$(mandir)/man1 $(DESTDIR)$(mandir)/man3 \
	    $(DESTDIR)$(mandir)/man5 $(DESTDIR)$(completiondir)
	$(INSTALL) -m 755 $(PROGRAMS) $(DESTDIR)$(bindir)
	$(INSTALL) -m 644 $(BUILD)/libpnm.a $(DESTDIR)$(libdir)
	$(INSTALL) -m 755 $(BUILD)/libpnm.so $(DESTDIR)$(libdir)/libpnm.so.$(PNM_VERSION)
	ln -sf libpnm.so.$(PNM_VERSION) $(DESTDIR)$(libdir)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(libdir)/libpnm.so
	$(INSTALL) -m 644 $(HEADERS) $(DESTDIR)$(includedir)/pnm
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(libdir)|' -e 's|@INCLUDEDIR@|$(includedir)|' \
	    -e 's|@VERSION@|$(PNM_VERSION)|' -e 's|@LIBS_PRIVATE@|$(LDLIBS) -lstdc++|' \
	    pnm.pc.in > $(DESTDIR)$(pkgconfigdir)/pnm.pc
	$(INSTALL) -m 644 $(MAN1) $(DESTDIR)$(mandir)/man1
	$(INSTALL) -m 644 $(MAN3) $(DESTDIR)$(mandir)/man3
	$(INSTALL) -m 644 $(MAN5) $(DESTDIR)$(mandir)/man5
	$(foreach a,$(MAN3_ALIASES),printf '.so man3/%s.3\n' $(word 1,$(subst :, ,$a)) \
	    > $(DESTDIR)$(mandir)/man3/$(word 2,$(subst :, ,$a)).3 &&) true
	$(INSTALL) -m 644 completion/pnm.bash $(DESTDIR)$(completiondir)/pnm
	$(foreach p,$(PROGRAM_NAMES),ln -sf pnm $(DESTDIR)$(completiondir)/$p &&) true
	$(if $(MODELS),$(INSTALL) -d $(DESTDIR)$(datadir)/pnm)
	$(if $(MODELS),$(INSTALL) -m 644 $(MODELS) $(DESTDIR)$(datadir)/pnm)

# Removes what install puts there (as the tree now names it), and the
# folders that are pnm's own once they are empty.
uninstall:
	rm -f $(addprefix $(DESTDIR)$(bindir)/,$(PROGRAM_NAMES))
	rm -f $(addprefix $(DESTDIR)$(libdir)/,libpnm.a libpnm.so $(SONAME) libpnm.so.$(PNM_VERSION))
	rm -f $(addprefix $(DESTDIR)$(includedir)/pnm/,$(notdir $(HEADERS)))
	rm -f $(DESTDIR)$(pkgconfigdir)/pnm.pc
	rm -f $(addprefix $(DESTDIR)$(mandir)/man1/,$(notdir $(MAN1)))
	rm -f $(addprefix $(DESTDIR)$(mandir)/man3/,$(notdir $(MAN3)) \
	    $(foreach a,$(MAN3_ALIASES),$(word 2,$(subst :, ,$a)).3))
	rm -f $(addprefix $(DESTDIR)$(mandir)/man5/,$(notdir $(MAN5)))
	rm -f $(addprefix $(DESTDIR)$(completiondir)/,pnm $(PROGRAM_NAMES))
	rm -f $(addprefix $(DESTDIR)$(datadir)/pnm/,$(notdir $(MODELS)))
	rmdir $(DESTDIR)$(includedir)/pnm $(DESTDIR)$(datadir)/pnm 2>/dev/null || true

.PHONY: install uninstall
