/*
 * reverse_shells.yar - reverse-shell one-liners in scripts: an
 * interactive shell whose standard streams are tied to a network socket
 * (bash /dev/tcp, netcat -e, mkfifo + nc, Python, Perl, PHP and Ruby
 * socket spawns).  Only non-ELF files (scripts, configuration, crontabs):
 * tools such as netcat carry similar text in their usage messages.
 */
rule RevShell_Bash_Dev_Tcp
{
    meta:
        title = "Reverse shell: interactive shell over /dev/tcp"
        severity = "HIGH"
        remediation = "Remove the script; find out how it got into the image and rebuild from trusted sources."
        reference = "https://attack.mitre.org/techniques/T1059/004/"
    strings:
        $i = /(ba|z|k|da)?sh\s+-i\s*(>&|&>|>\s*&)\s*\/dev\/(tcp|udp)\/[^\/\s]+\/[0-9]{1,5}/ ascii
        // "exec 3<>/dev/tcp/host/80" alone is a common HTTP health check:
        // only a shell wired to that descriptor is a reverse shell
        $fd = /exec\s+[0-9]+<>\s*\/dev\/(tcp|udp)\/[^\/\s]+\/[0-9]{1,5}\s*;\s*(\/bin\/)?(ba|z|k|da)?sh\s+<&\s*[0-9]+\s*>&\s*[0-9]+/ ascii
        $redir = /\/dev\/(tcp|udp)\/[^\/\s]+\/[0-9]{1,5}\s*0>&1/ ascii
    condition:
        uint32(0) != 0x464c457f and any of them
}

rule RevShell_Netcat_Exec
{
    meta:
        title = "Reverse shell: netcat executing a shell"
        severity = "HIGH"
        remediation = "Remove the script; find out how it got into the image and rebuild from trusted sources."
        reference = "https://attack.mitre.org/techniques/T1059/004/"
    strings:
        $e = /\b(nc|ncat|netcat)(\.traditional|\.openbsd)?\s[^\n|;&]{0,80}-(e|c)\s*\/bin\/(ba|z|da)?sh\b/ ascii
        $fifo = /mkfifo\s+\S+[^\n]{0,120}\|\s*(\/usr)?(\/bin\/)?(nc|ncat|netcat)\s+[^\n]{1,100}>\s*\S+/ ascii
    condition:
        uint32(0) != 0x464c457f and any of them
}

rule RevShell_Python
{
    meta:
        title = "Reverse shell: Python socket tied to a shell"
        severity = "HIGH"
        remediation = "Remove the script; find out how it got into the image and rebuild from trusted sources."
        reference = "https://attack.mitre.org/techniques/T1059/006/"
    strings:
        $connect = /socket\.socket\([^)]{0,80}\)[^\n]{0,200}\.connect\(\(/ ascii
        $dup2 = /os\.dup2\(\s*\w+\.fileno\(\)\s*,\s*[012]\s*\)/ ascii
        $pty = /pty\.spawn\(\s*["'](\/bin\/)?(ba|z|da)?sh["']/ ascii
        $sh = /\[\s*["']\/bin\/(ba|z|da)?sh["']\s*,\s*["']-i["']\s*\]/ ascii
    condition:
        uint32(0) != 0x464c457f and $connect and ($dup2 or $pty) and ($pty or $sh or $dup2)
}

rule RevShell_Perl
{
    meta:
        title = "Reverse shell: Perl socket tied to a shell"
        severity = "HIGH"
        remediation = "Remove the script; find out how it got into the image and rebuild from trusted sources."
        reference = "https://attack.mitre.org/techniques/T1059/"
    strings:
        $sock = /socket\(\s*\w+\s*,\s*PF_INET\s*,\s*SOCK_STREAM/ ascii
        $stdin = /open\(\s*STDIN\s*,\s*["']>&\w+["']\s*\)/ ascii
        $exec = /exec\(?\s*["']\/bin\/(ba|z|da)?sh(\s+-i)?["']/ ascii
        $io = /STDIN->fdopen\(\s*\$\w+\s*,\s*r\s*\)/ ascii
        $io_sock = "IO::Socket::INET" ascii
    condition:
        uint32(0) != 0x464c457f and ($sock and $stdin and $exec or $io and $io_sock)
}

rule RevShell_PHP
{
    meta:
        title = "Reverse shell: PHP socket tied to a shell"
        severity = "HIGH"
        remediation = "Remove the script; find out how it got into the image and rebuild from trusted sources."
        reference = "https://attack.mitre.org/techniques/T1505/003/"
    strings:
        $sock = /fsockopen\(\s*["'$][^)]{0,80}\)/ ascii
        $sh = /(exec|shell_exec|system|passthru|popen|proc_open)\(\s*["']\/bin\/(ba|z|da)?sh\s+-i\s*<&\s*[0-9]+\s*>&\s*[0-9]+/ ascii
    condition:
        uint32(0) != 0x464c457f and $sock and $sh
}

rule RevShell_Ruby
{
    meta:
        title = "Reverse shell: Ruby socket tied to a shell"
        severity = "HIGH"
        remediation = "Remove the script; find out how it got into the image and rebuild from trusted sources."
        reference = "https://attack.mitre.org/techniques/T1059/"
    strings:
        $sock = /TCPSocket\.(open|new)\(\s*["'][^"']{1,100}["']\s*,\s*[0-9]{1,5}\s*\)/ ascii
        $fmt = /\/bin\/(ba|z|da)?sh\s+-i\s*<&%d\s*>&%d\s*2>&%d/ ascii
        $io = /IO\.popen\(\s*\w+\s*,\s*["']r\+["']\s*\)/ ascii
    condition:
        uint32(0) != 0x464c457f and $sock and ($fmt or $io)
}
