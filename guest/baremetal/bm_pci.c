/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bm_pci.c - PCI configuration space through mechanism #1: write the
 * address (enable bit, bus, device, function, dword offset) to 0xcf8,
 * move the dword through 0xcfc.  Every x86 PC chipset QEMU emulates
 * (i440FX, Q35) has it.
 */
#include "bm.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc

static uint32_t addr(uint32_t bdf, uint32_t off)
{
    return 0x80000000u | bdf | (off & 0xfcu);
}

uint32_t bm_pci_read32(uint32_t bdf, uint32_t off)
{
    bm_outl(PCI_ADDR, addr(bdf, off));
    return bm_inl(PCI_DATA);
}

void bm_pci_write32(uint32_t bdf, uint32_t off, uint32_t v)
{
    bm_outl(PCI_ADDR, addr(bdf, off));
    bm_outl(PCI_DATA, v);
}

uint32_t bm_pci_find(uint16_t vendor, uint16_t device)
{
    uint32_t want = ((uint32_t)device << 16) | vendor;
    uint32_t bus, dev, fn;

    for (bus = 0; bus < 256; bus++) {
        for (dev = 0; dev < 32; dev++) {
            uint32_t bdf = (bus << 16) | (dev << 11);
            uint32_t id = bm_pci_read32(bdf, 0x00);
            uint32_t fns;

            if ((id & 0xffffu) == 0xffffu)
                continue; /* no device */
            /* Header type bit 7: more than one function. */
            fns = (bm_pci_read32(bdf, 0x0c) & 0x00800000u) ? 8 : 1;
            for (fn = 0; fn < fns; fn++) {
                uint32_t f = bdf | (fn << 8);
                if (bm_pci_read32(f, 0x00) == want)
                    return f;
            }
        }
    }
    return 0xffffffffu;
}
