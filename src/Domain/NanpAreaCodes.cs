namespace Collections.Domain;

/// <summary>
/// The US area codes of the North American Numbering Plan (NANPA's assignments, overlays included, through 2025) and
/// the time zones each may ring in. A person keeps their mobile number when they move, so a number's zone is a place
/// they may be, not where they are: the contact window is checked in every zone of the address, every phone and any
/// zone given explicitly. Area codes that cross a zone line list every zone they cross. Canada's and the Caribbean's
/// area codes (NANP members outside the US) add their own zones (a Newfoundland mobile is called by Newfoundland's
/// clock too); a code in no table (one assigned after this table, or a non-geographic one) may ring anywhere in the
/// fifty states, so it adds each of their zones.
/// </summary>
public static class NanpAreaCodes
{
    private const string Eastern = "America/New_York";
    private const string Central = "America/Chicago";
    private const string Mountain = "America/Denver";
    private const string Pacific = "America/Los_Angeles";

    private static readonly (string State, string Codes)[] ByState =
    [
        ("AL", "205 251 256 334 659 938"),
        ("AK", "907"),
        ("AZ", "480 520 602 623 928"),
        ("AR", "327 479 501 870"),
        ("CA", "209 213 279 310 323 341 350 369 408 415 424 442 510 530 559 562 619 626 628 650 657 661 669 707 714 738 747 760 805 818 820 831 837 840 858 909 916 925 949 951"),
        ("CO", "303 719 720 748 970 983"),
        ("CT", "203 475 860 959"),
        ("DE", "302"),
        ("DC", "202 771"),
        ("FL", "239 305 321 324 352 386 407 448 561 645 656 689 727 728 754 772 786 813 850 863 904 941 954"),
        ("GA", "229 404 470 478 678 706 762 770 912 943"),
        ("HI", "808"),
        ("ID", "208 986"),
        ("IL", "217 224 309 312 331 447 464 618 630 708 730 773 779 815 847 861 872"),
        ("IN", "219 260 317 463 574 765 812 930"),
        ("IA", "319 515 563 641 712"),
        ("KS", "316 620 785 913"),
        ("KY", "270 364 502 606 859"),
        ("LA", "225 318 337 457 504 985"),
        ("ME", "207"),
        ("MD", "227 240 301 410 443 667"),
        ("MA", "339 351 413 508 617 774 781 857 978"),
        ("MI", "231 248 269 313 517 586 616 679 734 810 906 947 989"),
        ("MN", "218 320 507 612 651 763 924 952"),
        ("MS", "228 471 601 662 769"),
        ("MO", "235 314 417 557 573 636 660 816 975"),
        ("MT", "406"),
        ("NE", "308 402 531"),
        ("NV", "702 725 775"),
        ("NH", "603"),
        ("NJ", "201 551 609 640 732 848 856 862 908 973"),
        ("NM", "505 575"),
        ("NY", "212 315 329 332 347 363 516 518 585 607 624 631 646 680 716 718 838 845 914 917 929 934"),
        ("NC", "252 336 472 704 743 828 910 919 980 984"),
        ("ND", "701"),
        ("OH", "216 220 234 283 326 330 380 419 436 440 513 567 614 740 937"),
        ("OK", "405 539 572 580 918"),
        ("OR", "458 503 541 971"),
        ("PA", "215 223 267 272 412 445 484 570 582 610 717 724 814 835 878"),
        ("RI", "401"),
        ("SC", "803 821 839 843 854 864"),
        ("SD", "605"),
        ("TN", "423 615 629 731 865 901 931"),
        ("TX", "210 214 254 281 325 346 361 409 430 432 469 512 682 713 726 737 806 817 830 832 903 915 936 940 945 956 972 979"),
        ("UT", "385 435 801"),
        ("VT", "802"),
        ("VA", "276 434 540 571 686 703 757 804 826 948"),
        ("WA", "206 253 360 425 509 564"),
        ("WV", "304 681"),
        ("WI", "262 274 353 414 534 608 715 920"),
        ("WY", "307"),
        ("PR", "787 939"),
        ("VI", "340"),
        ("GU", "671"),
        ("MP", "670"),
        ("AS", "684"),
    ];

    /// <summary>Area codes whose zones are not their state's (or not only): every zone they cross.</summary>
    private static readonly Dictionary<string, string[]> Split = new(StringComparer.Ordinal)
    {
        ["850"] = [Eastern, Central], ["448"] = [Eastern, Central],                 // Florida panhandle
        ["208"] = ["America/Boise", Pacific], ["986"] = ["America/Boise", Pacific], // Idaho, the panhandle Pacific
        ["219"] = [Central],                                                        // north-west Indiana
        ["812"] = ["America/Indiana/Indianapolis", Central], ["930"] = ["America/Indiana/Indianapolis", Central],
        ["574"] = ["America/Indiana/Indianapolis", Central],
        ["620"] = [Central, Mountain], ["785"] = [Central, Mountain],               // western Kansas
        ["270"] = [Central, Eastern], ["364"] = [Central, Eastern],                 // western Kentucky
        ["906"] = ["America/Detroit", "America/Menominee"],                         // Michigan's Upper Peninsula
        ["308"] = [Central, Mountain],                                              // western Nebraska
        ["701"] = [Central, Mountain],                                              // south-west North Dakota
        ["458"] = [Pacific, "America/Boise"], ["541"] = [Pacific, "America/Boise"], // eastern Oregon
        ["605"] = [Central, Mountain],                                              // west river South Dakota
        ["423"] = [Eastern, Central], ["931"] = [Central, Eastern],                 // Tennessee along the line
        ["865"] = [Eastern],                                                        // Knoxville: east Tennessee
        ["432"] = [Central, Mountain], ["915"] = [Mountain],                        // west Texas, El Paso
        ["928"] = ["America/Phoenix", Mountain],                                    // the Navajo Nation keeps daylight time
        ["907"] = ["America/Anchorage", "America/Adak"],                            // the Aleutians
        ["775"] = [Pacific, Mountain],                                              // West Wendover
    };

    /// <summary>The NANP's members outside the US (CNAC's and NANPA's assignments through 2025) and the zones each may ring in.</summary>
    private static readonly (string Zone, string Codes)[] OutsideUs =
    [
        ("America/St_Johns", "709 879"),                                           // Newfoundland and Labrador
        ("America/Halifax", "902 782 506 428"),                                    // Nova Scotia, PEI, New Brunswick
        ("America/Toronto", "263 354 367 418 438 450 468 514 579 581 819 873"),    // Quebec
        ("America/Toronto", "226 249 289 343 365 382 387 416 437 519 548 613 647 683 705 742 753 905 942"), // Ontario
        ("America/Winnipeg", "204 431 584"),                                       // Manitoba
        ("America/Regina", "306 474 639"),                                         // Saskatchewan
        ("America/Edmonton", "368 403 587 780 825"),                               // Alberta
        ("America/Vancouver", "236 257 604 672 778"),                              // British Columbia
        ("America/Nassau", "242"), ("America/Barbados", "246"), ("America/Anguilla", "264"), ("America/Antigua", "268"),
        ("America/Tortola", "284"), ("America/Cayman", "345"), ("Atlantic/Bermuda", "441"), ("America/Grenada", "473"),
        ("America/Grand_Turk", "649"), ("America/Jamaica", "658 876"), ("America/Montserrat", "664"),
        ("America/Lower_Princes", "721"), ("America/St_Lucia", "758"), ("America/Dominica", "767"),
        ("America/St_Vincent", "784"), ("America/Santo_Domingo", "809 829 849"), ("America/Port_of_Spain", "868"),
        ("America/St_Kitts", "869"),
    ];

    /// <summary>Codes outside the US that cross zones.</summary>
    private static readonly Dictionary<string, string[]> SplitOutsideUs = new(StringComparer.Ordinal)
    {
        ["807"] = ["America/Toronto", "America/Winnipeg"],                                   // north-western Ontario
        ["250"] = ["America/Vancouver", "America/Dawson_Creek"],                            // British Columbia's north-east
        ["867"] = ["America/Whitehorse", "America/Edmonton", "America/Winnipeg", "America/Toronto"], // the territories
    };

    private static readonly Dictionary<string, string[]> Zones = Build();

    /// <summary>The zones of the fifty states and DC: where a number of an area code in no table may ring.</summary>
    private static readonly string[] StatesZones =
        [Eastern, Central, Mountain, "America/Phoenix", Pacific, "America/Anchorage", "Pacific/Honolulu"];

    private static Dictionary<string, string[]> Build()
    {
        var zones = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var (state, codes) in ByState)
            foreach (var code in codes.Split(' '))
                zones[code] = Split.TryGetValue(code, out var split) ? split : [UsTimeZones.Resolve(state, "").Zone!];
        foreach (var (zone, codes) in OutsideUs)
            foreach (var code in codes.Split(' '))
                zones[code] = [zone];
        foreach (var (code, split) in SplitOutsideUs) zones[code] = split;
        return zones;
    }

    /// <summary>The US state an area code is assigned to, or null.</summary>
    public static string? State(string areaCode) => ByState.FirstOrDefault(s => s.Codes.Split(' ').Contains(areaCode)).State;

    /// <summary>The US area codes the table knows.</summary>
    public static int Count => ByState.Sum(s => s.Codes.Split(' ').Length);

    /// <summary>
    /// The zones a 10-digit NANP number may ring in: its area code's, every US zone for a code in no table, none for
    /// something that is not a 10-digit number.
    /// </summary>
    public static IReadOnlyList<string> ZonesOf(string number)
    {
        var digits = new string(number.Where(char.IsAsciiDigit).ToArray());
        if (digits.Length == 11 && digits[0] == '1') digits = digits[1..];
        if (digits.Length != 10) return [];
        return Zones.TryGetValue(digits[..3], out var zones) ? zones : StatesZones;
    }
}
