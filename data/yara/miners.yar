/*
 * miners.yar - crypto-currency miners: the stratum mining protocol URLs
 * miners are pointed at, XMRig's JSON configuration, and the strings of
 * the common miner binaries (XMRig, cpuminer/minerd).  Miners are the most
 * common payload of compromised or trojaned container images.
 */
rule Miner_Stratum_URL
{
    meta:
        title = "Crypto-miner pool URL (stratum protocol)"
        severity = "HIGH"
        remediation = "Find out how the miner got into the image; rebuild the image from trusted sources and rotate credentials of the build system."
        reference = "https://en.bitcoin.it/wiki/Stratum_mining_protocol"
    strings:
        $tcp = "stratum+tcp://" ascii wide nocase
        $ssl = "stratum+ssl://" ascii wide nocase
        $tls = "stratum+tls://" ascii wide nocase
        $v1 = "stratum1+tcp://" ascii nocase
        $v2 = "stratum2+tcp://" ascii nocase
    condition:
        any of them
}

rule Miner_XMRig_Config
{
    meta:
        title = "XMRig miner configuration"
        severity = "HIGH"
        remediation = "Remove the miner and its configuration; rebuild the image from trusted sources."
        reference = "https://xmrig.com/docs/miner/config"
    strings:
        $donate = "\"donate-level\"" ascii
        $donate_over = "\"donate-over-proxy\"" ascii
        $pools = "\"pools\"" ascii
        $rig = "\"rig-id\"" ascii
        $nicehash = "\"nicehash\"" ascii
        $randomx = "\"randomx\"" ascii
        $cpu = "\"cpu\"" ascii
    condition:
        filesize < 1MB and ($donate or $donate_over) and $pools and
        2 of ($rig, $nicehash, $randomx, $cpu)
}

rule Miner_Binary
{
    meta:
        title = "Crypto-miner executable (XMRig, cpuminer/minerd)"
        severity = "HIGH"
        remediation = "Remove the miner; rebuild the image from trusted sources."
    strings:
        $xmrig1 = "XMRig" ascii
        $xmrig2 = "xmrig.com" ascii
        $xmrig3 = "--donate-level" ascii
        $algo1 = "cryptonight" ascii nocase
        $algo2 = "randomx" ascii nocase
        $minerd1 = "minerd" ascii
        $minerd2 = "cpuminer" ascii
        $minerd3 = "scrypt" ascii
        $minerd4 = "--url=URL" ascii
    condition:
        uint32(0) == 0x464c457f and
        (2 of ($xmrig*) and any of ($algo*) or
         ($minerd1 or $minerd2) and $minerd3 and $minerd4)
}

rule Miner_Command_Line
{
    meta:
        title = "Script starts a crypto-miner"
        severity = "HIGH"
        remediation = "Remove the miner and the script that starts it; rebuild the image from trusted sources."
    strings:
        $xmrig = /xmrig[^\n]{0,200}(--donate-level|-o [a-z0-9.\-]+:[0-9]{2,5}|--url[ =])/ ascii
        $minerd = /(minerd|cpuminer)[^\n]{0,200}(-a|--algo)[ =][a-z0-9]+[^\n]{0,200}(-o|--url)[ =]/ ascii
    condition:
        uint32(0) != 0x464c457f and filesize < 8MB and any of them
}
