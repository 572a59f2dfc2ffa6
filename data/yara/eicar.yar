/*
 * eicar.yar - the EICAR anti-virus test file (https://www.eicar.org/):
 * the 68-byte string at the very start of the file, followed by nothing
 * but white space (space, tab, CR, LF, Ctrl-Z), the whole file at most
 * 128 bytes - the definition anti-virus engines implement.  A longer file
 * that merely quotes the string (documentation, this rule file) is not the
 * test file.
 *
 * Severity MEDIUM: the file is harmless, but it has no business in an
 * image and it proves that the malware gate works end to end.  ClamAV
 * reports it as a detection (Win.Test.EICAR_HDB-1) like real malware;
 * we keep it below HIGH so that an AV self-test does not read as an
 * infection.  See docs/malware.md.
 */
rule EICAR_Test_File
{
    meta:
        title = "EICAR anti-virus test file"
        severity = "MEDIUM"
        remediation = "Remove the test file from the image; it is harmless but has no place in a production image."
        reference = "https://www.eicar.org/download-anti-malware-testfile/"
    strings:
        $eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    condition:
        $eicar at 0 and filesize <= 128 and
        (filesize == 68 or
         for all i in (68..filesize - 1) : (
             uint8(i) == 0x20 or uint8(i) == 0x09 or uint8(i) == 0x0a or
             uint8(i) == 0x0d or uint8(i) == 0x1a))
}
