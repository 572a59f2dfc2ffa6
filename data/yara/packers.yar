/*
 * packers.yar - executables packed with UPX.  Packing hides the code from
 * static inspection (package scanners, SBOM tools find nothing inside) and
 * is a common trait of malware; legitimate images rarely ship packed
 * binaries.  ELF: the "UPX!" header near the start plus UPX's own marker
 * strings; PE: the UPX0/UPX1 section names.
 */
rule UPX_Packed_ELF
{
    meta:
        title = "UPX-packed ELF executable"
        severity = "MEDIUM"
        remediation = "Ship the unpacked binary (or rebuild it from source) so that its content can be inspected; find out why it was packed."
        reference = "https://upx.github.io/"
    strings:
        $magic = "UPX!"
        $info = "$Info: This file is packed with the UPX executable packer" ascii
        $id = "$Id: UPX " ascii
    condition:
        uint32(0) == 0x464c457f and $magic in (0..1024) and (#magic >= 2 or $info or $id)
}

rule UPX_Packed_PE
{
    meta:
        title = "UPX-packed Windows executable"
        severity = "MEDIUM"
        remediation = "Ship the unpacked binary so that its content can be inspected; find out why it was packed."
        reference = "https://upx.github.io/"
    strings:
        $s0 = { 55 50 58 30 00 00 00 00 }  // section name "UPX0"
        $s1 = { 55 50 58 31 00 00 00 00 }  // section name "UPX1"
    condition:
        uint16(0) == 0x5a4d and $s0 in (0..1024) and $s1 in (0..1024)
}
